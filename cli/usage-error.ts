import { VendorscanError } from '../errors/errors.ts';
/** A bad command line: printed with the usage hint, exit code 2. */
export class UsageError extends VendorscanError {
  constructor(message: string, options?: ErrorOptions) {
    super('VS_USAGE', 'usage', message, options);
  }
}
