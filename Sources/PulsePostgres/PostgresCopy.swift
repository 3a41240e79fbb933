import Foundation
import PostgresNIO
import PulseCore

/// What `pulse db copy` did to one table.
public struct CopiedTable: Sendable {
    public var name: String
    public var rows: Int
    public var digest: String
}

extension PostgresDatabase {
    /// Copies a workspace into this database, which must hold no Pulse data yet, in one
    /// transaction: every table in order, the sequences set past the copied ids, then every
    /// table read back and compared with what was read from the source (rows and a
    /// digest of every value). Any difference, or any error, rolls everything back.
    /// - Parameter read: a table's rows after a key, in key order, at most a given number.
    public func copyIn(_ tables: [CopyTable],
                       read: @escaping @Sendable (CopyTable, [CopyValue]?, Int) throws(PulseError) -> [[CopyValue]])
        async throws(PulseError) -> [CopiedTable] {
        let logger = self.logger
        do {
            return try await client.withConnection { c in
                try await c.inTransaction(logger: logger) { c in try await Self.copy(tables, read: read, on: c, logger: logger) }
            }
        } catch let e as PulseError {
            throw e
        } catch {
            throw .runtime("PostgreSQL: \(String(reflecting: error).prefix(300)); nothing was copied")
        }
    }

    static func copy(_ tables: [CopyTable], read: @Sendable (CopyTable, [CopyValue]?, Int) throws(PulseError) -> [[CopyValue]],
                     on c: PostgresConnection, logger: Logger) async throws -> [CopiedTable] {
        // Into an empty workspace only: a copy never merges two.
        var held: [String] = []
        for t in tables {
            let n = try await c.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*)::BIGINT FROM \(t.name)"), logger: logger)
                .collect().first!.decode(Int.self)
            if n > 0 { held.append("\(n) in \(t.name)") }
        }
        if !held.isEmpty {
            throw PulseError.usage("the PostgreSQL database already holds Pulse data (\(held.joined(separator: ", "))); "
                + "copy into a new, empty database")
        }
        var out: [CopiedTable] = []
        for t in tables {
            var digest = CopyDigest()
            var last: [CopyValue]?
            let perChunk = max(1, 30_000 / t.columns.count)
            let keyIndexes = t.key.map { k in t.columns.firstIndex { $0.name == k }! }
            while true {
                let rows = try read(t, last, perChunk)
                if rows.isEmpty { break }
                try await insert(rows, into: t, on: c, logger: logger)
                for row in rows { digest.add(row) }
                last = keyIndexes.map { rows.last![$0] }
                if rows.count < perChunk { break }
            }
            if let sequence = t.sequence, let id = t.key.first {
                try await c.query(PostgresQuery(unsafeSQL: """
                    SELECT setval('\(sequence)', COALESCE((SELECT MAX(\(id)) FROM \(t.name)), 0) + 1, false)
                    """), logger: logger)
            }
            let back = try await readBack(t, on: c, logger: logger)
            guard back.rows == digest.rows, back.hex == digest.hex else {
                throw PulseError.runtime("the copy of \(t.name) does not read back as it was read (\(digest.rows) rows read, "
                    + "\(back.rows) in PostgreSQL, or their values differ); nothing was copied")
            }
            out.append(CopiedTable(name: t.name, rows: digest.rows, digest: digest.hex))
        }
        return out
    }

    /// Rows into a table through `COPY ... FROM STDIN`.
    static func insert(_ rows: [[CopyValue]], into t: CopyTable, on c: PostgresConnection, logger: Logger) async throws {
        let kinds = t.columns.map(\.kind)
        var text = CopyText(capacity: rows.count * 16 * kinds.count)
        for row in rows { text.row(row, kinds: kinds) }
        let buffer = text.buffer
        try await c.copyFrom(table: t.name, columns: t.columns.map(\.name), logger: logger) { writer in
            try await writer.write(buffer)
        }
    }

    /// A table's rows as PostgreSQL holds them, in the source's key order (text byte by byte).
    static func readBack(_ t: CopyTable, on c: PostgresConnection, logger: Logger) async throws -> CopyDigest {
        var digest = CopyDigest()
        for try await row in try await c.query(selectInKeyOrder(t), logger: logger) { digest.add(try values(row, t)) }
        return digest
    }

    /// Every row of a table, in key order (text keys byte by byte, as SQLite orders them).
    static func selectInKeyOrder(_ t: CopyTable) -> PostgresQuery {
        let order = t.key.map { k in t.columns.first { $0.name == k }!.kind == .text ? "\(k) COLLATE \"C\"" : k }.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: "SELECT \(t.columns.map(\.name).joined(separator: ", ")) FROM \(t.name) ORDER BY \(order)")
    }

    /// A row's values as its columns' kinds (booleans as 0 and 1).
    static func values(_ row: PostgresRow, _ t: CopyTable) throws -> [CopyValue] {
        let r = row.makeRandomAccess()
        var values: [CopyValue] = []
        values.reserveCapacity(t.columns.count)
        for (i, column) in t.columns.enumerated() {
            switch column.kind {
            case .int: values.append(try r[i].decode(Int64?.self).map(CopyValue.int) ?? .null)
            case .bool: values.append(try r[i].decode(Bool?.self).map { .int($0 ? 1 : 0) } ?? .null)
            case .real: values.append(try r[i].decode(Double?.self).map(CopyValue.real) ?? .null)
            case .text: values.append(try r[i].decode(String?.self).map(CopyValue.text) ?? .null)
            case .blob: values.append(try r[i].decode(Data?.self).map(CopyValue.blob) ?? .null)
            }
        }
        return values
    }

    /// Copies this workspace out (`pulse db copy --to FILE`): every table read from one
    /// snapshot (a repeatable-read transaction, so a copy is consistent while others
    /// write), in key order, handed to `write` a chunk at a time, with a digest of what was
    /// read. Refused while a serve holds anonymous answers, and when `key` is not the key
    /// the links were made with (checked against a stored link's hash).
    public func copyOut(_ tables: [CopyTable], now: Date, key: TokenKey?,
                        write: @escaping @Sendable (CopyTable, [[CopyValue]]) throws(PulseError) -> Void) async throws(PulseError) -> [CopiedTable] {
        let logger = self.logger
        do {
            return try await client.withConnection { c in
                try await c.inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger) { c in
                    try await Self.copyOut(tables, now: now, key: key, write: write, on: c, logger: logger)
                }
            }
        } catch let e as PulseError {
            throw e
        } catch {
            throw .runtime("PostgreSQL: \(String(reflecting: error).prefix(300))")
        }
    }

    static func copyOut(_ tables: [CopyTable], now: Date, key: TokenKey?, write: @Sendable (CopyTable, [[CopyValue]]) throws(PulseError) -> Void,
                        on c: PostgresConnection, logger: Logger) async throws -> [CopiedTable] {
        let held = try await c.query("""
            SELECT COUNT(*)::BIGINT FROM invitation i WHERE i.held_by IS NOT NULL
              AND EXISTS (SELECT 1 FROM answer_hold_lease l WHERE l.id = i.held_by AND l.expires_at > \(Timestamp.string(now)))
            """, logger: logger).collect().first?.decode(Int.self) ?? 0
        if held > 0 {
            throw PulseError.runtime("a running pulse serve holds \(Plural.count(held, "anonymous answer")) in this database: "
                + "stop every serve (it writes what it holds), then copy")
        }
        if let row = try await c.query("""
            SELECT id, round_id, token_hash FROM invitation WHERE token_hash IS NOT NULL ORDER BY id LIMIT 1
            """, logger: logger).collect().first {
            let (id, round, hash) = try row.decode((Int64, Int64, Data).self)
            let variable = "PULSE_TOKEN_KEY (or the variable database.token_key_env names)"
            guard let key else {
                throw PulseError.runtime("the links already mailed were made with a token key, and none was given: set \(variable) "
                    + "to the value the instances that send are given; it becomes the key file beside the copy. Nothing was copied")
            }
            guard TokenKey.hash(key.token(invitationID: id, roundID: round)) == hash else {
                throw PulseError.runtime("\(variable) holds another key than the one the links already mailed were made with: "
                    + "set it to the value the instances that send are given. Nothing was copied")
            }
        }
        var out: [CopiedTable] = []
        for t in tables {
            var digest = CopyDigest()
            var chunk: [[CopyValue]] = []
            let perChunk = max(1, 30_000 / t.columns.count)
            for try await row in try await c.query(selectInKeyOrder(t), logger: logger) {
                let v = try values(row, t)
                digest.add(v)
                chunk.append(v)
                if chunk.count == perChunk { try write(t, chunk); chunk.removeAll(keepingCapacity: true) }
            }
            if !chunk.isEmpty { try write(t, chunk) }
            out.append(CopiedTable(name: t.name, rows: digest.rows, digest: digest.hex))
        }
        return out
    }
}
