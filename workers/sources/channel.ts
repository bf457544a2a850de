// A channel publishes `store-paths.xz`: every store path it holds, one per line, xz-compressed.
// The channel host is reached with the same bounds as a cache: an answer within a timeout, no
// silence longer than it inside the body, an overall deadline, and a cap on the bytes read
// (compressed and decompressed), so a host that never answers or never stops cannot hang a run.
import { decompress } from '../../decompress/decompress.ts';
import { VendorscanError } from '../../errors/errors.ts';
import { linesOf } from './path-list.ts';

export class ChannelError extends VendorscanError {
  constructor(message: string) {
    super('VS_CHANNEL', 'unavailable', message);
  }
}

export interface ChannelLimits {
  /** Until the headers, and the longest silence inside the body (default 30 s). */
  timeoutMs?: number;
  /** The whole download (default 10 min). */
  deadlineMs?: number;
  /** Compressed bytes (default 64 MiB; nixos-unstable's is about 2 MB). */
  maxBytes?: number;
  /** Decompressed bytes (default 1 GiB). */
  maxOutputBytes?: number;
}

const LIMITS = { timeoutMs: 30_000, deadlineMs: 10 * 60_000, maxBytes: 64 * 1024 * 1024, maxOutputBytes: 1024 * 1024 * 1024 };

export function channelStorePathsUrl(channel: string, channelsUrl: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(channel)) {
    throw new Error(`channel name "${channel}" is not valid (expected e.g. nixos-unstable or nixos-24.05)`);
  }
  return `${channelsUrl.replace(/\/+$/, '')}/${channel}/store-paths.xz`;
}

/**
 * The channel's revision, when its host redirects to the release it serves (channels.nixos.org
 * sends nixos-unstable/store-paths.xz to …/nixos-25.05pre812345.0a1b2c3d/store-paths.xz).
 */
export function channelRevision(requestedUrl: string, finalUrl: string): string | null {
  if (finalUrl === requestedUrl) return null;
  const dir = new URL(finalUrl).pathname.split('/').filter((p) => p !== '');
  return dir.length >= 2 ? (dir[dir.length - 2] ?? null) : null;
}

/** Streams the store paths of `channel`; `onRevision` hears the channel's revision when its host names one. */
export async function* channelStorePaths(channel: string, channelsUrl: string, onRevision?: (revision: string) => Promise<void>, limits: ChannelLimits = {}): AsyncGenerator<string> {
  const url = channelStorePathsUrl(channel, channelsUrl);
  const { timeoutMs, deadlineMs, maxBytes, maxOutputBytes } = { ...LIMITS, ...limits };
  const controller = new AbortController();
  let why = '';
  const abort = (reason: string): void => {
    why = reason;
    controller.abort(new Error(reason));
  };
  let stall = setTimeout(() => abort(`no answer within ${timeoutMs} ms`), timeoutMs);
  const deadline = setTimeout(() => abort(`not read within the deadline of ${deadlineMs} ms`), deadlineMs);
  const fail = (err: unknown): never => {
    if (err instanceof VendorscanError) throw err;
    const message = why || (err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err));
    throw new ChannelError(`cannot fetch ${url}: ${message}`);
  };
  try {
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow', signal: controller.signal });
    } catch (err) {
      return fail(err);
    }
    if (!response.ok || !response.body) throw new ChannelError(`cannot fetch ${url}: HTTP ${response.status}`);
    const revision = channelRevision(url, response.url);
    if (revision !== null && onRevision) await onRevision(revision);
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    async function* bounded(): AsyncGenerator<Uint8Array> {
      let read = 0;
      try {
        for await (const chunk of body) {
          clearTimeout(stall);
          stall = setTimeout(() => abort(`the body stalled for ${timeoutMs} ms`), timeoutMs);
          read += chunk.length;
          if (read > maxBytes) throw new ChannelError(`${url} is larger than ${maxBytes} bytes: not a channel's store-paths.xz`);
          yield chunk;
        }
      } catch (err) {
        fail(err);
      }
    }
    let out = 0;
    async function* capped(): AsyncGenerator<Uint8Array> {
      // xz itself (or in process): the one file is small, and zstd refuses valid xz with stream
      // padding, which the scanner's second try covers for NARs only.
      for await (const chunk of decompress(bounded(), 'xz', { plainXz: true })) {
        out += chunk.length;
        if (out > maxOutputBytes) throw new ChannelError(`${url} decompresses to more than ${maxOutputBytes} bytes: not a channel's store-paths.xz`);
        yield chunk;
      }
    }
    yield* linesOf(capped());
  } finally {
    clearTimeout(stall);
    clearTimeout(deadline);
    controller.abort();
  }
}
