import Foundation
import PostgresNIO
import PulseCore

/// A row's columns read in order, straight from their binary bytes, for the queries that
/// return many rows (the rollups the reports read). PostgresNIO's `decode((A, B, ...))`
/// builds the tuple's type at run time for every row: over the 86,632 round groups of a
/// year it took half of `enps`'s time.
struct RowCells {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    private mutating func next() throws -> PostgresCell {
        guard let cell = cells.next() else { throw PulseError.runtime("PostgreSQL returned fewer columns than the query names") }
        return cell
    }

    /// An integer column (int2, int4 or int8); `nil` for NULL.
    mutating func int64OrNil() throws -> Int64? {
        let cell = try next()
        guard var bytes = cell.bytes else { return nil }
        guard cell.format == .binary else { return try cell.decode(Int64.self) }
        switch cell.dataType {
        case .int8: if let v = bytes.readInteger(as: Int64.self) { return v }
        case .int4: if let v = bytes.readInteger(as: Int32.self) { return Int64(v) }
        case .int2: if let v = bytes.readInteger(as: Int16.self) { return Int64(v) }
        default: return try cell.decode(Int64.self)
        }
        throw PulseError.runtime("PostgreSQL returned a short integer in \(cell.columnName)")
    }

    mutating func int64() throws -> Int64 {
        guard let v = try int64OrNil() else { throw PulseError.runtime("PostgreSQL returned NULL where a number was expected") }
        return v
    }

    mutating func int() throws -> Int { Int(try int64()) }

    mutating func bool() throws -> Bool {
        let cell = try next()
        guard cell.format == .binary, cell.dataType == .bool, var bytes = cell.bytes, let b = bytes.readInteger(as: UInt8.self) else {
            return try cell.decode(Bool.self)
        }
        return b != 0
    }

    /// A text column; `nil` for NULL.
    mutating func stringOrNil() throws -> String? {
        let cell = try next()
        guard let bytes = cell.bytes else { return nil }
        switch cell.dataType {
        case .text, .varchar, .name, .bpchar: return String(buffer: bytes)
        default: return try cell.decode(String.self)
        }
    }

    mutating func string() throws -> String {
        guard let s = try stringOrNil() else { throw PulseError.runtime("PostgreSQL returned NULL where a text was expected") }
        return s
    }

    /// A double precision column; `nil` for NULL.
    mutating func doubleOrNil() throws -> Double? {
        let cell = try next()
        guard var bytes = cell.bytes else { return nil }
        guard cell.format == .binary, cell.dataType == .float8, let bits = bytes.readInteger(as: UInt64.self) else {
            return try cell.decode(Double.self)
        }
        return Double(bitPattern: bits)
    }

    mutating func double() throws -> Double {
        guard let v = try doubleOrNil() else { throw PulseError.runtime("PostgreSQL returned NULL where a number was expected") }
        return v
    }
}
