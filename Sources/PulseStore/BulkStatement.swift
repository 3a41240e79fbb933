import GRDB
import GRDBSQLite

/// One prepared statement driven through SQLite's C API, for loops that write millions
/// of rows: binding through GRDB's `StatementArguments` boxes every value, which costs
/// more than the insert itself. Use inside a GRDB write transaction only.
struct BulkStatement {
    private let statement: Statement
    private let connection: OpaquePointer?

    init(_ statement: Statement, connection: OpaquePointer?) {
        self.statement = statement
        self.connection = connection
    }

    /// Binds an id, a text and integers-or-nulls to the parameters in order, runs the
    /// statement, and returns how many rows it changed.
    mutating func execute(_ id: Int64, _ text: String, _ values: [Int?]) throws -> Int {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, id)
        _ = text.utf8.withContiguousStorageIfAvailable { b in
            sqlite3_bind_text(s, 2, b.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                              Int32(b.count), SQLITE_TRANSIENT)
        } ?? {
            sqlite3_bind_text(s, 2, text, -1, SQLITE_TRANSIENT)
        }()
        for (i, v) in values.enumerated() {
            if let v { sqlite3_bind_int64(s, Int32(i + 3), Int64(v)) } else { sqlite3_bind_null(s, Int32(i + 3)) }
        }
        let code = sqlite3_step(s)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection))
            sqlite3_reset(s)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        return Int(sqlite3_changes(connection))
    }
}

/// SQLite copies the bound text before `bind` returns.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
