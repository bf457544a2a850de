// The V8 flags every vendorscan process runs with; bin/vendorscan.mjs's shebang repeats them, and
// the Dockerfile's ENTRYPOINT, `npm run bench` and the tests take them from here (a test keeps the
// copies equal).
//
// Two WebAssembly modules run in vendorscan, with opposite needs:
// - PGlite (the embedded PostgreSQL, 9 MB of WebAssembly) must stay on V8's baseline code: tiered
//   up to TurboFan in the background, its hot functions took ~600 MB of compiler memory and over a
//   second of CPU at every start of a command that opens the embedded store.
// - The xz decoder (xz-embedded compiled to WebAssembly, which decodes the small NARs in the scan
//   threads) is one hot loop: on baseline code it took 1.9 ms of CPU per 36 kB NAR, against 1.26
//   optimised; 2001 small store paths took 6.4-7.4 s of CPU instead of 5.5-6.2.
// V8 can limit tier-up to one function index (in every module), and compile it optimised at once:
// index 26 is the xz module's LZMA decoder, its largest function and ~70 % of its time, and in
// PGlite's modules an imported function, which has no code to optimise, so PGlite never tiers up.
// test/unit/v8-flags.test.ts checks both against the installed modules.

/** The xz-decompress module's LZMA decoder, by function index (the pinned xz-decompress version). */
export const XZ_DECODER_FUNCTION = 26;

export const V8_FLAGS = [`--wasm-tier-up-filter=${XZ_DECODER_FUNCTION}`, `--wasm-eager-tier-up-function=${XZ_DECODER_FUNCTION}`];
