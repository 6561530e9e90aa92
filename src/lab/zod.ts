// zod as netlab uses it. Every module that builds a schema imports z from here, so this runs before the first one.
// jitless: zod compiles a parser for each object schema with `new Function` on its first parse, which pays off over
// many parses; netlab parses a lab file once per command, and without it `validate` used ~20 ms less CPU.
import { z } from 'zod';

z.config({ jitless: true });

export { z };
