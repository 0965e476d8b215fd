/** app and stream names: the URL contract of DESIGN.md. Anything else is refused, never used as a path. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const isValidName = (s: string): boolean => NAME_PATTERN.test(s);
