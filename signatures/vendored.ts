// Whether a copy is vendored: a finding in the library's own package (its pname, as Nix's
// parseDrvName gives it, split outputs included) is not; everything else is. This list is the
// source of truth; the results store's library_packages table is kept in step with it.
export const LIBRARY_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  libwebp: ['libwebp'],
  libpng: ['libpng', 'libpng-apng'],
  libvpx: ['libvpx'],
  zlib: ['zlib'],
  'zlib-ng': ['zlib-ng'],
  openssl: ['openssl'],
  'libjpeg-turbo': ['libjpeg-turbo'],
  libcurl: ['curl', 'curlMinimal'],
  sqlite: ['sqlite'],
  expat: ['expat'],
  freetype: ['freetype'],
  ffmpeg: ['ffmpeg', 'ffmpeg-headless', 'ffmpeg-full'],
  chromium: ['chromium', 'chromium-unwrapped'],
  electron: ['electron', 'electron-unwrapped'],
  cef: ['cef-binary'],
};

export function isVendored(library: string, pname: string): boolean {
  return !(LIBRARY_PACKAGES[library] ?? []).includes(pname);
}
