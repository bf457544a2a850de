// A one-line progress bar for a TTY: paths done/total, bytes, MB/s, ETA.
import type { ScanProgress } from '../scanner/scan.ts';

export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function progressLine(p: ScanProgress, width = 24): string {
  const seconds = Math.max(p.elapsedMs, 1) / 1000;
  const fraction = p.total > 0 ? p.done / p.total : 0;
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const total = p.totalKnown ? `${p.total}` : `${p.total}+`;
  const rate = p.narBytes / 1e6 / seconds;
  const eta = p.totalKnown && p.done > 0 && p.done < p.total ? ` ETA ${formatDuration(((p.total - p.done) * p.elapsedMs) / p.done)}` : '';
  return `${bar} ${p.done}/${total} paths  ${formatBytes(p.narBytes)} NAR (${formatBytes(p.downloadedBytes)} down)  ${rate.toFixed(1)} MB/s${eta}  findings ${p.findings}  failed ${p.failed}`;
}

export class ProgressBar {
  private last = '';
  private readonly stream: NodeJS.WriteStream;
  constructor(stream: NodeJS.WriteStream) {
    this.stream = stream;
  }

  update(p: ScanProgress): void {
    const line = progressLine(p, 24).slice(0, Math.max(20, (this.stream.columns ?? 120) - 1));
    if (line === this.last) return;
    this.last = line;
    this.stream.write(`\r\x1b[2K${line}`);
  }

  clear(): void {
    if (this.last) this.stream.write('\r\x1b[2K');
    this.last = '';
  }
}
