import Foundation
import NIOCore
import PostgresNIO
import PulseCore

/// Rows in the text format of `COPY ... FROM STDIN`: fields separated by tabs, rows by
/// newlines, `\N` for NULL, and backslash, tab, newline and carriage return escaped, so
/// that any text a cell holds arrives as it was.
struct CopyText {
    var buffer: ByteBuffer

    init(capacity: Int = 1 << 16) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    mutating func null() { buffer.writeStaticString("\\N") }
    mutating func int(_ v: Int64?) { if let v { buffer.writeString(String(v)) } else { null() } }
    mutating func real(_ v: Double?) {
        guard let v else { return null() }
        // The shortest text that reads back as the same double.
        buffer.writeString(v.isFinite ? "\(v)" : (v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity")))
    }
    mutating func bool(_ v: Bool?) { if let v { buffer.writeStaticString(v ? "t" : "f") } else { null() } }

    mutating func text(_ v: String?) {
        guard let v else { return null() }
        for byte in v.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }

    /// bytea in its hex form (`\x...`, the backslash escaped for COPY).
    mutating func blob(_ v: Data?) {
        guard let v else { return null() }
        buffer.writeStaticString("\\\\x")
        let digits = Array("0123456789abcdef".utf8)
        for byte in v { buffer.writeInteger(digits[Int(byte >> 4)]); buffer.writeInteger(digits[Int(byte & 0x0f)]) }
    }

    mutating func separator() { buffer.writeInteger(UInt8(ascii: "\t")) }
    mutating func endRow() { buffer.writeInteger(UInt8(ascii: "\n")) }

    /// One copied row by its columns' kinds.
    mutating func row(_ values: [CopyValue], kinds: [CopyTable.Kind]) {
        for (i, (value, kind)) in zip(values, kinds).enumerated() {
            if i > 0 { separator() }
            switch (value, kind) {
            case (.null, _): null()
            case let (.int(v), .bool): bool(v != 0)
            case let (.int(v), .real): real(Double(v))
            case let (.int(v), _): int(v)
            case let (.real(v), _): real(v)
            case let (.text(v), _): text(v)
            case let (.blob(v), _): blob(v)
            }
        }
        endRow()
    }
}
