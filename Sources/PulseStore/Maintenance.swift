import Foundation
import GRDB
import PulseCore

/// What `pulse backup` copied.
public struct BackupSummary: Sendable {
    public var pages: Int
    public var bytes: Int
    public var integrity: String
}

/// What `pulse doctor` learns from the database.
public struct DatabaseHealth: Sendable {
    public var integrity: [String]
    public var schemaVersion: String?
    public var knownVersion: String
    public var pendingMigrations: [String]
    public var counts: [(table: String, rows: Int)]
    public var walBytes: Int?
}

extension AppDatabase {
    /// Copies the database into a new file with SQLite's online backup, page by page in
    /// short steps so that `serve`, `send` and `tick` go on writing meanwhile (a step that
    /// sees a change since the last one starts over from the changed state), then checks
    /// the copy with `PRAGMA integrity_check`. The copy is written beside `path` and
    /// renamed into place, so `path` is either absent or complete.
    public func backup(to path: String) throws(PulseError) -> BackupSummary {
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            // A backup holds what the database does: the owner's only, like it.
            try PrivateFile.createEmpty(atPath: temporary)
            let target = try DatabaseQueue(path: temporary)
            var pages = 0
            try dbWriter.backup(to: target, pagesPerStep: 256) { progress in pages = progress.totalPageCount }
            let integrity = try target.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }.joined(separator: "; ")
            let pageSize = try target.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } ?? 4096
            try target.close()
            guard integrity == "ok" else {
                try? FileManager.default.removeItem(atPath: temporary)
                throw PulseError.runtime("the copy failed its integrity check (\(integrity)); \(path) was not written")
            }
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
            return BackupSummary(pages: pages, bytes: pages * pageSize, integrity: integrity)
        } catch let e as PulseError {
            throw e
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .runtime("backup to \(path) failed: \(error)")
        }
    }

    /// Integrity, schema version and sizes, for `pulse doctor`.
    public func health() throws(PulseError) -> DatabaseHealth {
        try read { db in
            let applied = try Self.migrator.appliedIdentifiers(db)
            let known = Self.migrator.migrations
            let tables = ["rep", "round", "invitation", "response", "activity", "quota", "opportunity", "lead", "note", "action_item", "outbox"]
            let counts = try tables.compactMap { table -> (String, Int)? in
                guard try db.tableExists(table) else { return nil }
                return (table, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0)
            }
            return DatabaseHealth(
                integrity: try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                schemaVersion: applied.sorted().last, knownVersion: known.last ?? "",
                pendingMigrations: known.filter { !applied.contains($0) }, counts: counts, walBytes: nil)
        }
    }
}
