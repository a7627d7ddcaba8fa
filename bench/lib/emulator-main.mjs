// fauxqs on a free loopback port in its own process; reports the port to the parent over IPC.
import { startFauxqs } from "fauxqs";

const server = await startFauxqs({ port: 0, logger: false });
process.send?.({ port: server.port });
process.on("disconnect", () => process.exit(0));
