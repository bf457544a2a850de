// `vendorscan scheduler`: one BullMQ job scheduler per channel; each firing starts a library scan.
import { openRuntime } from '../services/runtime.ts';
import { checkCron, CHANNEL_NAME, loadConfig } from '../services/config.ts';
import { startScheduler } from '../services/scheduler/scheduler.ts';
import { redisConnection } from '../workers/queue/scan-queue.ts';
import { UsageError } from './usage-error.ts';
import { parseFlags, untilSignal, type Command } from './flags.ts';

const usage = `Usage: vendorscan scheduler [--channel A,B] [--cron EXPR]

  Starts a scan of each channel on a schedule (needs REDIS_URL; workers do the scanning).

  --channel A,B    channels (default env VENDORSCAN_CHANNELS, else nixos-unstable)
  --cron EXPR      when, in UTC (default env VENDORSCAN_CRON, else "0 3 * * 0": Sundays 03:00)
`;

export const command: Command = {
  usage,
  async run(argv, io) {
    const v = parseFlags(argv, { cron: { type: 'string' }, channel: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) {
      io.stdout.write(usage);
      return 0;
    }
    const config = loadConfig(io.env);
    if (!config.redisUrl) throw new UsageError('vendorscan scheduler needs REDIS_URL');
    const channels = v.channel !== undefined ? v.channel.split(',').map((c) => c.trim()).filter((c) => c !== '') : config.channels;
    for (const c of channels) if (!CHANNEL_NAME.test(c)) throw new UsageError(`--channel: "${c}" is not a channel name`);
    const cron = v.cron ?? config.cron;
    if (v.cron !== undefined) checkCron('--cron', v.cron);
    const runtime = await openRuntime(config);
    const scheduler = await startScheduler({
      connection: redisConnection(config.redisUrl),
      prefix: config.queuePrefix,
      channels,
      cron,
      db: runtime.db,
      cacheUrl: runtime.cacheUrl,
      rulesetDigest: runtime.signatures.digest,
      enqueue: (jobs) => runtime.enqueue(jobs),
    });
    io.stderr.write(`vendorscan scheduler: ${channels.join(', ')} on "${cron}" (UTC)\n`);
    await untilSignal();
    await scheduler.close();
    await runtime.close();
    return 0;
  },
};
