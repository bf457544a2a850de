// Types of v8-flags.mjs (plain JavaScript, so that bin/vendorscan.mjs can name an old Node's version before failing).
export declare const XZ_DECODER_FUNCTION: number;
export declare const V8_FLAGS: readonly string[];
