/** A configuration error that names the offending field, so an operator can fix it without reading code. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** Dotted path of the offending field, e.g. `pools[0].origins[2].url`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}
