// The egress bridge of the fast init (sandbox-init.pl): accepts on the listening socket it inherited as fd
// argv[2] (127.0.0.1:3128 of the sandbox's own network namespace) and pipes each connection to the runner's proxy
// socket argv[3]. It runs as the agent, below it; the pid namespace ends it with the agent.
import { createConnection, createServer } from "node:net";

const [fd, socketPath] = process.argv.slice(2);
const bridge = createServer((conn) => {
  const up = createConnection(socketPath);
  const end = () => {
    conn.destroy();
    up.destroy();
  };
  conn.on("error", end).on("close", end);
  up.on("error", end).on("close", end);
  conn.pipe(up);
  up.pipe(conn);
});
bridge.on("error", (error) => {
  process.stderr.write(`[forgehand-sandbox] egress bridge: ${error.message}\n`);
  process.exit(1);
});
bridge.listen({ fd: Number(fd) });
