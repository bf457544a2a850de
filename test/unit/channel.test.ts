// A channel's revision is where its host redirects store-paths.xz: the release directory's name.
import { describe, expect, it } from 'vitest';
import { channelRevision, channelStorePathsUrl } from '../../workers/sources/channel.ts';

describe('channel revision', () => {
  it('is the release directory the channel redirects to, and none without a redirect', () => {
    const asked = channelStorePathsUrl('nixos-unstable', 'https://channels.nixos.org/');
    expect(asked).toBe('https://channels.nixos.org/nixos-unstable/store-paths.xz');
    expect(channelRevision(asked, 'https://releases.nixos.org/nixos/unstable/nixos-25.05pre812345.0a1b2c3d4e5f/store-paths.xz')).toBe('nixos-25.05pre812345.0a1b2c3d4e5f');
    expect(channelRevision(asked, asked)).toBeNull();
  });
  it('refuses a channel name that is not one', () => {
    expect(() => channelStorePathsUrl('../etc', 'https://channels.nixos.org')).toThrow(/channel name "..\/etc" is not valid/);
  });
});
