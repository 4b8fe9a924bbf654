/** A throw-away Ceph cluster on 127.0.0.1 whose Object Gateway speaks S3 (see ceph.mjs). */
export interface Ceph {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
  /** Frees the memory of deleted objects now (radosgw-admin gc process). */
  collectGarbage(): void;
  stop(): Promise<void>;
}

/** Starts the cluster (`memoryBytes`: what the in-memory OSD may hold, default 3 GiB). */
export function startCeph(options?: { memoryBytes?: number }): Promise<Ceph>;
