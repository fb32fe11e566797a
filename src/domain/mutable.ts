/** `T` with its properties writable: an object built field by field before it is handed on as `T`. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
