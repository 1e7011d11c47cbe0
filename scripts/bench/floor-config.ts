import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FLOOR_WORKER = fileURLToPath(new URL('./floor-worker.js', import.meta.url));
const LEAST_GATEWAY_WORKER = fileURLToPath(new URL('./least-gateway-worker.js', import.meta.url));

/**
 * Writes the floor Worker's workerd config into `dir` (capnp embeds files
 * relative to the config) and returns its path. Same runtime and network rules
 * as the gateway's generated config.
 */
export function writeFloorConfig(dir: string): string {
  return writeReferenceConfig(dir, FLOOR_WORKER, 'floor');
}

/** The same for the least-gateway Worker (least-gateway-worker.js), a reference point of the throughput breakdown. */
export function writeLeastGatewayConfig(dir: string): string {
  return writeReferenceConfig(dir, LEAST_GATEWAY_WORKER, 'least-gateway');
}

function writeReferenceConfig(dir: string, worker: string, name: string): string {
  const module = `${name}-worker.js`;
  copyFileSync(worker, join(dir, module));
  const file = join(dir, `${name}.capnp`);
  writeFileSync(file, referenceWorkerdConfig(module));
  return file;
}

function referenceWorkerdConfig(module: string): string {
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "floor", worker = (
      modules = [(name = "${module}", esModule = embed "${module}")],
      compatibilityDate = "2026-11-01",
      bindings = [(name = "UPSTREAM", fromEnvironment = "UPSTREAM")],
    )),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    # Unused here; present so the floor runs with the same command line as the gateway.
    (name = "do-storage", disk = (path = "/tmp", writable = false)),
    (name = "queue-storage", disk = (path = "/tmp", writable = false)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8080", http = (), service = "floor")],
);
`;
}
