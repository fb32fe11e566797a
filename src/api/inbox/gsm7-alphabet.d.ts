/** Types of gsm7-alphabet.js, which the server generates from smpp/text/gsm7.ts (see inbox-files.ts). */
export const GSM7_BASIC: string;
export const GSM7_EXTENSION: string;
