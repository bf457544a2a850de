// The API's errors, as types with codes: a bad parameter (400, naming it), a missing resource (404),
// a missing or wrong token (401). The error handler turns any VendorscanError into its status.
import { VendorscanError } from '../../errors/errors.ts';

export class BadRequestError extends VendorscanError {
  readonly parameter: string;
  readonly details: Record<string, unknown>;
  constructor(parameter: string, message: string, details: Record<string, unknown> = {}) {
    super('VS_API_BAD_PARAMETER', 'usage', message);
    this.parameter = parameter;
    this.details = details;
  }
}

export class NotFoundError extends VendorscanError {
  constructor(message: string) {
    super('VS_API_NOT_FOUND', 'not-found', message);
  }
}

export class UnauthorizedError extends VendorscanError {
  constructor(message: string) {
    super('VS_API_UNAUTHORIZED', 'unauthorized', message);
  }
}
