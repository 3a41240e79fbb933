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
