// A channel publishes `store-paths.xz`: every store path it holds, one per line, xz-compressed.
import { decompress } from '../../decompress/decompress.ts';
import { linesOf } from './path-list.ts';

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
export async function* channelStorePaths(channel: string, channelsUrl: string, onRevision?: (revision: string) => Promise<void>): AsyncGenerator<string> {
  const url = channelStorePathsUrl(channel, channelsUrl);
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    throw new Error(`cannot fetch ${url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`);
  }
  if (!response.ok || !response.body) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
  const revision = channelRevision(url, response.url);
  if (revision !== null && onRevision) await onRevision(revision);
  const body = response.body as unknown as AsyncIterable<Uint8Array>;
  yield* linesOf(decompress(body, 'xz'));
}
