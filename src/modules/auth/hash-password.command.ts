// `npm run grid -- hash-password`: reads a password on stdin and prints its scrypt hash,
// for GRID_USERS_FILE. The password never appears in argv (ps, shell history).
import * as readline from 'node:readline';
import { Writable } from 'node:stream';
import { MIN_PASSWORD_LENGTH } from '../../common/config/config.js';
import { hashPassword } from './password-hash.js';

async function readPassword(input: NodeJS.ReadStream): Promise<string> {
  if (input.isTTY) {
    // Typed at a terminal: no echo, one line.
    process.stderr.write('Password: ');
    const rl = readline.createInterface({ input, output: new Writable({ write: (_c, _e, cb) => cb() }), terminal: true });
    const line = await new Promise<string>((resolve) => rl.once('line', resolve));
    rl.close();
    process.stderr.write('\n');
    return line;
  }
  let text = '';
  for await (const chunk of input) text += chunk;
  // `echo pw | ...` and a file with a final newline mean the password without it.
  return text.replace(/\r?\n$/, '');
}

/** Returns the exit code. */
export async function hashPasswordCommand(input: NodeJS.ReadStream = process.stdin): Promise<number> {
  const password = await readPassword(input);
  if (password.length === 0) {
    process.stderr.write("grid hash-password: no password on stdin (it is read from stdin, never from the command line): printf '%s\\n' 'a long passphrase' | npm run -s grid -- hash-password\n");
    return 2;
  }
  if (password.length < MIN_PASSWORD_LENGTH) {
    process.stderr.write(`grid hash-password: the password must be at least ${MIN_PASSWORD_LENGTH} characters\n`);
    return 2;
  }
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}
