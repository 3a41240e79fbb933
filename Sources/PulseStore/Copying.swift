import Foundation
import GRDB
import PulseCore

/// A workspace read for `pulse db copy`: one snapshot of the file (a copy is consistent
/// even while other commands write), each table in key order, a chunk at a time.
public struct CopySource: Sendable {
    let reader: any DatabaseReader

    /// Rows of a table after `last` (its key's values), in key order, at most `limit`.
    public func rows(_ table: CopyTable, after last: [CopyValue]?, limit: Int) throws(PulseError) -> [[CopyValue]] {
        let columns = table.columns.map(\.name).joined(separator: ", ")
        let key = table.key.joined(separator: ", ")
        var sql = "SELECT \(columns) FROM \(table.name)"
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let last {
            sql += table.key.count == 1 ? " WHERE \(key) > ?" : " WHERE (\(key)) > (\(table.key.map { _ in "?" }.joined(separator: ", ")))"
            arguments = last.map(Self.databaseValue)
        }
        sql += " ORDER BY \(key) LIMIT \(limit)"
        do {
            return try reader.read { db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                    zip(table.columns, row.databaseValues).map { Self.copyValue($1, kind: $0.kind) }
                }
            }
        } catch {
            throw .runtime("cannot read \(table.name) of the SQLite file: \(error)")
        }
    }

    /// Invitations whose anonymous answer a running `serve` holds: a copy would lose them.
    public func liveHolds(now: Date) throws(PulseError) -> Int {
        do {
            return try reader.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM invitation i WHERE i.held_by IS NOT NULL
                      AND EXISTS (SELECT 1 FROM answer_hold_lease l WHERE l.id = i.held_by AND l.expires_at > ?)
                    """, arguments: [Timestamp.string(now)]) ?? 0
            }
        } catch {
            throw .runtime("cannot read the SQLite file: \(error)")
        }
    }

    static func databaseValue(_ v: CopyValue) -> (any DatabaseValueConvertible)? {
        switch v {
        case .null: nil
        case let .int(i): i
        case let .real(d): d
        case let .text(s): s
        case let .blob(b): b
        }
    }

    /// A stored value as its column's kind (booleans as 0 and 1).
    static func copyValue(_ v: DatabaseValue, kind: CopyTable.Kind) -> CopyValue {
        switch v.storage {
        case .null: return .null
        case let .int64(i): return kind == .real ? .real(Double(i)) : .int(i)
        case let .double(d):
            if kind == .int || kind == .bool, let i = Int64(exactly: d) { return .int(i) }
            return .real(d)
        case let .string(s): return .text(s)
        case let .blob(b): return .blob(b)
        }
    }
}

extension AppDatabase {
    /// A consistent snapshot of the file to copy from.
    public func copySource() throws(PulseError) -> CopySource {
        if let pool = dbWriter as? DatabasePool {
            do { return CopySource(reader: try pool.makeSnapshot()) } catch {
                throw .runtime("cannot take a snapshot of the SQLite file: \(error)")
            }
        }
        return CopySource(reader: dbWriter)
    }
}

extension AppDatabase {
    /// Appends rows copied from another engine to a table, in one transaction (`pulse db
    /// copy` back into a new file).
    public func insertCopied(_ table: CopyTable, rows: [[CopyValue]]) throws(PulseError) {
        let sql = "INSERT INTO \(table.name) (\(table.columns.map(\.name).joined(separator: ", "))) VALUES ("
            + table.columns.map { _ in "?" }.joined(separator: ", ") + ")"
        try write { db in
            let statement = try db.cachedStatement(sql: sql)
            for row in rows { try statement.execute(arguments: StatementArguments(row.map(CopySource.databaseValue))) }
        }
    }

    /// A table's digest as the file holds it, in key order: what a copy into the file is
    /// checked against.
    public func copiedDigest(_ table: CopyTable) throws(PulseError) -> CopyDigest {
        let source = CopySource(reader: dbWriter)
        var digest = CopyDigest()
        var last: [CopyValue]?
        let keyIndexes = table.key.map { k in table.columns.firstIndex { $0.name == k }! }
        while true {
            let rows = try source.rows(table, after: last, limit: 5_000)
            for row in rows { digest.add(row) }
            guard rows.count == 5_000 else { break }
            last = keyIndexes.map { rows.last![$0] }
        }
        return digest
    }

    /// Ends the connections, the log checkpointed into the file first: the file alone then
    /// holds everything (what a copy moves into place).
    public func close() throws(PulseError) {
        do {
            try dbWriter.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            if let pool = dbWriter as? DatabasePool { try pool.close() } else if let queue = dbWriter as? DatabaseQueue { try queue.close() }
        } catch {
            throw .runtime("cannot close the database: \(error)")
        }
    }
}
