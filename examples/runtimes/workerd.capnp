# workerd config for worker.mjs, bundled as worker.js beside this file by build-worker.mjs.
# Run: workerd serve workerd.capnp --socket-addr http=127.0.0.1:3000
# The bindings are read from workerd's own environment (fromEnvironment); unset ones are left out.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .uploadsWorker),
    # Outbound fetches (to the S3 store). workerd's default reaches only public addresses; a local
    # store (MinIO, Ceph RGW on 127.0.0.1) needs "private" and "local" too.
    (name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = "127.0.0.1:3000", http = (), service = "main")],
);

const uploadsWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-11-01",
  # nodejs_compat (node:crypto, Buffer) is on by default from 2026-08-04; with an older date add
  # compatibilityFlags = ["nodejs_compat"].
  globalOutbound = "internet",
  bindings = [
    (name = "S3_BUCKET", fromEnvironment = "S3_BUCKET"),
    (name = "S3_ENDPOINT", fromEnvironment = "S3_ENDPOINT"),
    (name = "S3_REGION", fromEnvironment = "S3_REGION"),
    (name = "S3_ACCESS_KEY_ID", fromEnvironment = "S3_ACCESS_KEY_ID"),
    (name = "S3_SECRET_ACCESS_KEY", fromEnvironment = "S3_SECRET_ACCESS_KEY"),
    (name = "PRESIGN_SECRET", fromEnvironment = "PRESIGN_SECRET"),
    (name = "MULTIPART_THRESHOLD", fromEnvironment = "MULTIPART_THRESHOLD"),
    (name = "S3_TIMEOUT_MS", fromEnvironment = "S3_TIMEOUT_MS"),
  ],
);
