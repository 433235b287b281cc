package dev.txkv.server;

/**
 * One member's storage.
 *
 * @param engine the storage engine, e.g. RocksDB
 * @param engineVersion its version, e.g. 10.10.1
 * @param dataDirectory the data directory the member was started with
 * @param diskUsedBytes the bytes of every file under the data directory (the Raft log included)
 * @param kvSizeBytesEstimate the storage engine's estimate of the sum of key and value sizes of the live data
 * @param mvccVersionsRetained versions kept readable in the MVCC window
 */
record StorageStatus(String engine, String engineVersion, String dataDirectory, long diskUsedBytes,
        long kvSizeBytesEstimate, long mvccVersionsRetained) {
}
