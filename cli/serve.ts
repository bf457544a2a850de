// `vendorscan serve`: the HTTP API. Without REDIS_URL it also runs the jobs it starts.
import { buildApi } from '../services/api/app.ts';
import { openRuntime } from '../services/runtime.ts';
import { describeStore, loadConfig } from '../services/config.ts';
import { closeOnSignal, parseFlags, positiveInt, type Command } from './flags.ts';

const usage = `Usage: vendorscan serve [--port N] [--host H]

  The HTTP API (OpenAPI at /docs) on port 8080 (env PORT), host 127.0.0.1 (env HOST).
  Writes (POST /v1/scans, POST /v1/searches) need VENDORSCAN_API_TOKEN.
  Without REDIS_URL, scans and searches run inside this process.

  --port N     port to listen on
  --host H     address to listen on
`;

export const command: Command = {
  usage,
  async run(argv, io) {
    const v = parseFlags(argv, { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) {
      io.stdout.write(usage);
      return 0;
    }
    const config = loadConfig(io.env);
    const port = positiveInt('port', v.port, config.port);
    const host = v.host ?? config.host;
    const runtime = await openRuntime(config);
    const app = await buildApi({ ...runtime, apiToken: config.apiToken, readToken: config.readToken });
    await app.listen({ port, host });
    io.stderr.write(`vendorscan API on http://${host}:${port} (docs at /docs), results in ${describeStore(config)}, ${runtime.bull ? 'jobs on Redis' : 'jobs in this process'}\n`);
    await closeOnSignal(io, 'serve', config.shutdownGraceMs, async () => {
      await app.close();
      await runtime.close();
    });
    return 0;
  },
};
