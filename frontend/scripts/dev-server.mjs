// A seeded Verity for working on the dashboard's pages: starts the server (see
// tests/harness.mjs for the binary it runs), fills it with tests/seed.mjs, prints where to log
// in, and runs until Ctrl-C or SIGTERM. Usage: node scripts/dev-server.mjs

import { Client, startVerity } from "../tests/harness.mjs";
import { seed } from "../tests/seed.mjs";

const ADMIN_PASSWORD = "admin-password-123";

const server = await startVerity({ adminPassword: ADMIN_PASSWORD });
let stopping = false;
const shutdown = async (code) => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(code);
};
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));
server.exited.then(({ code, signal }) => {
  if (stopping) return;
  console.error(`verity stopped by itself (code ${code}, signal ${signal}):`);
  console.error(server.stderrTail().join("\n"));
  shutdown(1);
});

try {
  const admin = await Client.login(server.base, "admin", ADMIN_PASSWORD);
  const world = await seed(server.base, admin);
  console.log(`Verity (seeded) at ${server.base}/ui/`);
  console.log(`data directory: ${server.dataDir} (removed on exit)\n`);
  console.log("users:");
  console.log(`  ${"admin".padEnd(8)} ${ADMIN_PASSWORD.padEnd(22)} administrator`);
  for (const [name, user] of Object.entries(world.users)) {
    console.log(`  ${name.padEnd(8)} ${user.password.padEnd(22)} ${user.role} in ${world.project}`);
  }
  console.log("\nCtrl-C to stop.");
} catch (err) {
  console.error(err);
  console.error(server.stderrTail().join("\n"));
  await shutdown(1);
}
