// For each library the signatures look for: the sonames its shared objects carry, and a few of its
// exported functions that have been stable across its releases. classifyLinkage (linkage.ts) uses
// them to tell a vendored copy (defines the functions, or is the library itself) from a program
// that was only built against the shared library (NEEDs the soname, imports the functions).
//
// Grammar: a soname is an exact DT_SONAME/DT_NEEDED value, or a prefix followed by one trailing
// `*` ("libssl.so.*" matches libssl.so.3 and libssl.so.1.1). Symbols are plain C names, without
// version suffixes. Keys are the `library` names of signatures/*.yar.
//
// Only functions are listed: an executable's .dynsym "defines" the data objects it imports by copy
// relocation, so a data symbol would read as a copy. Prefer names specific to the library: a
// program may well have its own `inflate`, so zlib's list also carries zlibVersion.

export interface LibraryLinkage {
  sonames: string[];
  symbols: string[];
}

export const LIBRARY_LINKAGE: Record<string, LibraryLinkage> = {
  openssl: {
    sonames: ['libcrypto.so.*', 'libssl.so.*'],
    // SSLeay_version: OpenSSL before 1.1.0, where OpenSSL_version did not exist yet.
    symbols: ['OpenSSL_version', 'OpenSSL_version_num', 'SSLeay_version', 'SSL_CTX_new', 'EVP_DigestInit_ex'],
  },
  zlib: {
    sonames: ['libz.so.1'],
    symbols: ['zlibVersion', 'inflate', 'deflate', 'inflateInit_', 'deflateInit_'],
  },
  libpng: {
    sonames: ['libpng16.so.16', 'libpng12.so.0'],
    symbols: ['png_create_read_struct', 'png_get_libpng_ver', 'png_create_write_struct', 'png_access_version_number'],
  },
  libwebp: {
    // libwebpdecoder is the decode-only build of the same sources.
    sonames: ['libwebp.so.*', 'libwebpdecoder.so.*'],
    symbols: ['WebPGetDecoderVersion', 'WebPDecode', 'WebPGetInfo'],
  },
  libvpx: {
    sonames: ['libvpx.so.*'],
    symbols: ['vpx_codec_version', 'vpx_codec_version_str', 'vpx_codec_dec_init_ver'],
  },
  expat: {
    sonames: ['libexpat.so.1', 'libexpatw.so.1'],
    symbols: ['XML_ParserCreate', 'XML_ExpatVersion', 'XML_Parse'],
  },
  'libjpeg-turbo': {
    // libjpeg.so.8 is the jpeg8-API build of libjpeg-turbo that some distributions (and Nix) ship.
    sonames: ['libjpeg.so.62', 'libjpeg.so.8', 'libturbojpeg.so.0'],
    symbols: ['jpeg_CreateDecompress', 'jpeg_CreateCompress', 'tjInitDecompress', 'tj3Init'],
  },
  libcurl: {
    sonames: ['libcurl.so.4', 'libcurl-gnutls.so.4', 'libcurl-nss.so.4'],
    symbols: ['curl_easy_init', 'curl_version', 'curl_version_info'],
  },
  sqlite: {
    sonames: ['libsqlite3.so.0'],
    symbols: ['sqlite3_open', 'sqlite3_libversion', 'sqlite3_open_v2'],
  },
  freetype: {
    sonames: ['libfreetype.so.6'],
    symbols: ['FT_Init_FreeType', 'FT_Library_Version'],
  },
  ffmpeg: {
    sonames: ['libavcodec.so.*'],
    symbols: ['avcodec_version', 'avcodec_configuration', 'avcodec_open2'],
  },
};
