#!/usr/bin/env bash
# Builds the archives of bench/corpus/archives.tsv from real binaries, with the real tools:
# Debian's libpng, libwebp and zlib, and the libwebp codec wasm of @jsquash/webp from the npm
# registry, packed by jar, zip, tar (gzip, zstd, xz, bzip2), Python's zipfile (a wheel) and
# @electron/asar.
# The packages are fetched into OUTDIR, never committed.
#
#   build-archives.sh OUTDIR
#
# Needs: apt-get download, dpkg-deb, npm, jar (a JDK), zip, tar, zstd, xz, bzip2, python3.
set -euo pipefail
out=$1
mkdir -p "$out/src" "$out/stage"; out=$(cd "$out" && pwd)
cd "$out/src"
for deb in libpng16-16 libwebp7 zlib1g libpng-dev; do
  [ -d "$deb" ] && continue
  mkdir -p "$deb.tmp"
  (cd "$deb.tmp" && { apt-get download "$deb" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get download "$deb" >/dev/null; }; } && dpkg-deb -x ./*.deb . && rm -f ./*.deb)
  mv "$deb.tmp" "$deb"
done
if [ ! -d jsquash-webp ]; then
  mkdir -p jsquash-webp.tmp && (cd jsquash-webp.tmp && npm pack --silent @jsquash/webp@1.5.0 >/dev/null && tar xzf ./*.tgz && rm ./*.tgz)
  mv jsquash-webp.tmp jsquash-webp
fi
png=$out/src/libpng16-16/usr/lib/x86_64-linux-gnu/libpng16.so.16.39.0
webp=$out/src/libwebp7/usr/lib/x86_64-linux-gnu/libwebp.so.7.1.5
zlib=$(find "$out/src/zlib1g" -name 'libz.so.1.*' -type f | head -1)
pngh=$out/src/libpng-dev/usr/include/libpng16/png.h
wasm=$out/src/jsquash-webp/package/codec/dec/webp_dec.wasm
s=$out/stage; rm -rf "${s:?}"/*
rm -f "$out"/*.jar "$out"/*.whl "$out"/*.zip "$out"/*.tar.* "$out"/*.asar

# A jar with JNA/LWJGL-style natives (jar writes data descriptors), and its text naming versions.
mkdir -p "$s/jar/natives/linux-x86_64" "$s/jar/META-INF"
cp "$png" "$s/jar/natives/linux-x86_64/libpng16.so.16"
printf 'Bundles libpng version 1.6.40 - September 12, 2023\n' > "$s/jar/META-INF/NOTICE.txt"
jar --create --file "$out/natives.jar" -C "$s/jar" .

# A wheel (Python's zipfile, as auditwheel writes them) with a vendored libwebp.
python3 - "$webp" "$out/pillow_like.whl" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], 'pillow_like.libs/libwebp-1a2b3c4d.so.7')
    z.writestr('pillow_like/__init__.py', '# wraps libwebp 1.3.2\n')
PY

# A jar inside a zip: two levels.
mkdir -p "$s/inner/lib" "$s/outer/plugins"
cp "$zlib" "$s/inner/lib/libz.so.1"
(cd "$s/inner" && zip -qr "$s/outer/plugins/compress.jar" .)
(cd "$s/outer" && zip -qr "$out/plugins.zip" .)

# A gzip'd tar and a zstd tar.
mkdir -p "$s/tgz/lib" "$s/tzst/lib"
cp "$png" "$s/tgz/lib/libpng16.so.16"
cp "$webp" "$s/tzst/lib/libwebp.so.7"
tar czf "$out/natives.tar.gz" -C "$s/tgz" .
tar --zstd -cf "$out/natives.tar.zst" -C "$s/tzst" .

# An xz tar and a bzip2 tar (source-style tarballs, node:zlib reads neither).
mkdir -p "$s/txz/usr/lib" "$s/tbz/lib/x86_64-linux-gnu"
cp "$zlib" "$s/txz/usr/lib/libz.so.1"
cp "$webp" "$s/tbz/lib/x86_64-linux-gnu/libwebp.so.7"
tar cJf "$out/natives.tar.xz" -C "$s/txz" .
tar cjf "$out/natives.tar.bz2" -C "$s/tbz" .

# An Electron app.asar, packed by @electron/asar, with the libwebp decoder wasm beside its code.
mkdir -p "$s/asar/node_modules/webp/codec"
cp "$wasm" "$s/asar/node_modules/webp/codec/webp_dec.wasm"
printf '{"name":"app","version":"1.0.0","main":"main.js"}\n' > "$s/asar/package.json"
printf 'require("webp"); // libwebp 1.4.0\n' > "$s/asar/main.js"
npm exec --yes --package=@electron/asar@4.3.2 -- asar pack "$s/asar" "$out/app.asar" >/dev/null

# Only text naming versions: libpng's own header in a zip. Never a copy.
mkdir -p "$s/docs/include"
cp "$pngh" "$s/docs/include/png.h"
(cd "$s/docs" && zip -qr "$out/headers.zip" .)
echo "archives: $out"
