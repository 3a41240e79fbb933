import Foundation

/// A byte-level CSV reader for the contract's input files: UTF-8 with or without a BOM,
/// LF or CRLF, RFC 4180 quoting (fields with delimiters, quotes and line breaks), a
/// comma or a semicolon delimiter.
///
/// Owned rather than taken from yaslab/CSV.swift or SwiftCSV because neither reports the
/// line a record starts on (the contract's errors name it, and a quoted field can span
/// lines) and both decode scalar by scalar, several times slower than the
/// 500,000-rows-a-second import the KPI issue asks for.
public struct CSVReader: Sendable {
    public let file: String
    public let delimiter: UInt8
    private let source: Source
    private let bodyStart: Int
    private let headerLine: [String]
    private let firstBodyLine: Int

    /// Where the bytes come from: all in memory, or a file read in chunks so that a
    /// large import holds a megabyte of it at a time, not the whole file.
    private enum Source: Sendable {
        case memory([UInt8])
        case path(String)
    }

    /// The header cells as written (trimmed of surrounding spaces).
    public var header: [String] { headerLine }

    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the name used in error messages.
    ///   - delimiter: `nil` to take a semicolon when the header has semicolons and no commas.
    /// - Throws: `PulseError.invalidInput` for an empty file or a malformed header.
    public init(bytes: [UInt8], file: String, delimiter: UInt8? = nil) throws(PulseError) {
        try self.init(source: .memory(bytes), file: file, delimiter: delimiter)
    }

    /// A reader that streams the file at `path` (read again from the start by each
    /// `forEachRecord`).
    /// - Throws: `PulseError.runtime` when the file cannot be read, and what `init(bytes:)` throws.
    public init(path: String, file: String, delimiter: UInt8? = nil) throws(PulseError) {
        try self.init(source: .path(path), file: file, delimiter: delimiter)
    }

    private init(source: Source, file: String, delimiter: UInt8?) throws(PulseError) {
        self.file = file
        self.source = source
        var window = try Window(source: source, file: file)
        var start = 0
        while window.bytes.count < 3 && !window.eof { try window.refill(keepingFrom: 0) }
        let bytes = window.bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        var record = CSVRecord()
        var cursor = Cursor(position: start, line: 1)
        // Reads the header, asking for more bytes until it is complete.
        func header(delimiter: UInt8) throws(PulseError) -> Bool {
            while true {
                cursor = Cursor(position: start, line: 1)
                switch try Self.next(&record, window: window, cursor: &cursor, delimiter: delimiter, file: file) {
                case .record: return true
                case .end: return false
                case .needMore: try window.refill(keepingFrom: 0)
                }
            }
        }
        if let delimiter {
            self.delimiter = delimiter
        } else {
            // The header line decides: semicolons and no commas outside quotes.
            var commas = 0, semicolons = 0
            while true {
                var i = start, inQuotes = false, ended = false
                (commas, semicolons) = (0, 0)
                let b = window.bytes
                while i < b.count {
                    let c = b[i]
                    if c == Self.quote { inQuotes.toggle() }
                    else if !inQuotes && (c == Self.lf || c == Self.cr) { ended = true; break }
                    else if !inQuotes && c == Self.comma { commas += 1 }
                    else if !inQuotes && c == Self.semicolon { semicolons += 1 }
                    i += 1
                }
                if ended || window.eof { break }
                try window.refill(keepingFrom: 0)
            }
            self.delimiter = semicolons > 0 && commas == 0 ? Self.semicolon : Self.comma
        }
        guard try header(delimiter: self.delimiter) else {
            throw .input(InputIssue(file: file, "the file is empty: a header row is required"))
        }
        if record.defects().contains(where: \.nul)
            || (bytes.count >= 2 && (bytes[0] == 0xFF && bytes[1] == 0xFE || bytes[0] == 0xFE && bytes[1] == 0xFF)) {
            throw .input(InputIssue(file: file, line: 1,
                "the header holds NUL bytes or a UTF-16 mark: the file looks like UTF-16 (or is not text); save it as UTF-8"))
        }
        var names: [String] = []
        for i in 0..<record.count {
            guard let s = record.string(i) else {
                throw .input(InputIssue(file: file, line: 1, "the header is not valid UTF-8"))
            }
            names.append(s.trimmingSpaces)
        }
        headerLine = names
        bodyStart = cursor.position
        firstBodyLine = cursor.line
    }

    /// Calls `body` with each record after the header, reusing one record's storage.
    /// Blank lines are skipped.
    ///
    /// Every record `body` sees has the header's number of fields, each valid UTF-8
    /// without a NUL. Records that are not (a cell read short, columns shifted or
    /// dropped) are refused: the file is read to its end to list each of them (up to
    /// `maxIssues`), `body` is not called again after the first, and the error lists them.
    /// - Throws: `PulseError.invalidInput` naming the line each bad record starts on.
    public func forEachRecord(_ body: (CSVRecord) throws(PulseError) -> Void) throws(PulseError) {
        var window = try Window(source: source, file: file)
        while window.bytes.count < bodyStart && !window.eof { try window.refill(keepingFrom: 0) }
        var cursor = Cursor(position: bodyStart, line: firstBodyLine)
        var record = CSVRecord()
        var issues: [InputIssue] = []
        while true {
            let startOfRecord = cursor
            let step: Step
            do {
                step = try Self.next(&record, window: window, cursor: &cursor, delimiter: delimiter, file: file)
            } catch {
                // A quote never closed ends the reading: with the records refused before it.
                guard case let .invalidInput(more) = error, !issues.isEmpty else { throw error }
                throw .invalidInput(issues + more)
            }
            switch step {
            case .end:
                guard issues.isEmpty else { throw .invalidInput(issues) }
                return
            case .needMore:
                try window.refill(keepingFrom: startOfRecord.position)
                cursor = Cursor(position: 0, line: startOfRecord.line)
            case .record:
                if record.count == 1 && record.isEmpty(0) { continue }
                let found = problems(record)
                if !found.isEmpty {
                    issues += found.prefix(Self.maxIssues - issues.count)
                    continue
                }
                if issues.isEmpty { try body(record) }
            }
        }
    }

    /// How many bad records an error lists at most.
    static let maxIssues = 1000

    /// What is wrong with a record: a number of fields other than the header's, a NUL,
    /// bytes that are not UTF-8.
    func problems(_ record: CSVRecord) -> [InputIssue] {
        var out: [InputIssue] = []
        let n = record.count, m = headerLine.count
        func column(_ i: Int) -> String? {
            guard i < m else { return nil }
            return headerLine[i].isEmpty ? "column \(i + 1)" : headerLine[i]
        }
        if n != m {
            let d = String(UnicodeScalar(delimiter))
            let has = "the row has \(n) field\(n == 1 ? "" : "s") but the header has \(m)"
            if n < m {
                let missing = (n..<m).map { column($0)! }
                let message = m - n == 1
                    ? "\(has): the last field (\(missing[0])) is missing; if it is empty, end the line with \"\(d)\""
                    : "\(has): the last \(m - n) fields (\(missing.joined(separator: ", "))) are missing; if they are empty, end the line with \"\(String(repeating: d, count: m - n))\""
                out.append(InputIssue(file: file, line: record.line, field: column(n), message))
            } else if (m..<n).allSatisfy({ record.isEmpty($0) }) {
                out.append(InputIssue(file: file, line: record.line,
                    "\(has): it ends with \(n - m == 1 ? "an extra" : "\(n - m) extra") \"\(d)\"; remove \(n - m == 1 ? "it" : "them")"))
            } else {
                out.append(InputIssue(file: file, line: record.line,
                    "\(has): a text with a \"\(d)\" in it must be in quotes, like \"Smith\(d) John\""))
            }
        }
        for defect in record.defects() {
            out.append(InputIssue(file: file, line: record.line, field: column(defect.field) ?? "field \(defect.field + 1)",
                defect.nul ? "contains a NUL byte, which is not text (is the file UTF-16, or not a CSV file?)"
                           : "is not valid UTF-8 (save the file as UTF-8)"))
        }
        return out
    }

    /// How much of a file the streaming reader reads at a time.
    static let chunkSize = 1 << 20

    struct Cursor {
        var position: Int
        var line: Int
    }

    /// The bytes read so far that are still needed, and whether the file has no more.
    private struct Window {
        var bytes: [UInt8]
        var eof: Bool
        private let handle: FileReader?
        private let file: String
        static let chunk = CSVReader.chunkSize

        init(source: Source, file: String) throws(PulseError) {
            self.file = file
            switch source {
            case let .memory(bytes):
                self.bytes = bytes
                eof = true
                handle = nil
            case let .path(path):
                guard let h = FileReader(path: path) else { throw .runtime("\(path): cannot be read") }
                handle = h
                bytes = []
                eof = false
                try refill(keepingFrom: 0)
            }
        }

        /// Drops the bytes before `position` and appends the next chunk of the file.
        mutating func refill(keepingFrom position: Int) throws(PulseError) {
            guard let handle, !eof else { return }
            if position > 0 { bytes.removeSubrange(0..<position) }
            // A record longer than a chunk grows the window instead of looping.
            let want = max(Self.chunk, bytes.count)
            let before = bytes.count
            let read = try handle.read(into: &bytes, count: want, file: file)
            if read == 0 || bytes.count - before < want { eof = handle.atEnd }
        }
    }

    enum Step { case record, end, needMore }

    static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), semicolon = UInt8(ascii: ";")
    static let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    /// Reads one record at the cursor into `record`: `.end` at the end of the input,
    /// `.needMore` when the window ends inside the record and the file has more.
    private static func next(_ record: inout CSVRecord, window: Window, cursor: inout Cursor,
                             delimiter: UInt8, file: String) throws(PulseError) -> Step {
        var i = cursor.position
        let n = window.bytes.count, eof = window.eof
        guard i < n else { return eof ? .end : .needMore }
        record.reset(line: cursor.line)
        let recordLine = cursor.line
        var line = cursor.line
        return try window.bytes.withUnsafeBufferPointer { buf -> Result<Step, PulseError> in
            var fieldStart = true
            var ended = false
            while i < n {
                let b = buf[i]
                if fieldStart && b == quote {
                    // Quoted field: runs to the closing quote; "" is a literal quote.
                    let openLine = line
                    i += 1
                    var closed = false
                    while i < n {
                        let c = buf[i]
                        if c == quote {
                            if i + 1 < n && buf[i + 1] == quote {
                                record.append(quote)
                                i += 2
                                continue
                            }
                            if i + 1 == n && !eof { return .success(.needMore) }
                            i += 1
                            closed = true
                            break
                        }
                        // A line ends at LF, CRLF or a lone CR, inside quotes as outside them.
                        if c == lf || (c == cr && (i + 1 == n || buf[i + 1] != lf)) {
                            if c == cr && i + 1 == n && !eof { return .success(.needMore) }
                            line += 1
                        }
                        record.append(c)
                        i += 1
                    }
                    guard closed else {
                        if !eof { return .success(.needMore) }
                        return .failure(.input(InputIssue(file: file, line: recordLine,
                            "a quoted field\(openLine == recordLine ? "" : " opening on line \(openLine)") is never closed (a \" is missing)")))
                    }
                    if i < n, buf[i] != delimiter, buf[i] != lf, buf[i] != cr {
                        return .failure(.input(InputIssue(file: file, line: recordLine,
                            "unexpected text after a closing quote\(line == recordLine ? "" : " (the quoted field closes on line \(line))"); quotes inside a field are written as \"\"")))
                    }
                    fieldStart = false
                    continue
                }
                if b == delimiter {
                    record.endField()
                    fieldStart = true
                    i += 1
                    continue
                }
                if b == lf || b == cr {
                    if b == cr && i + 1 == n && !eof { return .success(.needMore) }
                    i += (b == cr && i + 1 < n && buf[i + 1] == lf) ? 2 : 1
                    line += 1
                    ended = true
                    break
                }
                // Unquoted run: copy up to the next delimiter or line break in one go.
                var j = i
                while j < n {
                    let c = buf[j]
                    if c == delimiter || c == lf || c == cr { break }
                    j += 1
                }
                record.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<j]))
                i = j
                fieldStart = false
            }
            if !ended && !eof { return .success(.needMore) }
            record.endField()
            cursor.position = i
            cursor.line = line
            return .success(.record)
        }.get()
    }
}

/// Reads a file in chunks with the C library (no `Data` copy of the whole file).
private final class FileReader: @unchecked Sendable {
    private let fp: UnsafeMutablePointer<FILE>

    init?(path: String) {
        guard let fp = fopen(path, "rb") else { return nil }
        self.fp = fp
    }

    deinit { fclose(fp) }

    var atEnd: Bool { feof(fp) != 0 }

    /// Appends up to `count` bytes to `bytes`; the number read.
    func read(into bytes: inout [UInt8], count: Int, file: String) throws(PulseError) -> Int {
        let got = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { buffer in
            let n = fread(buffer.baseAddress!, 1, count, fp)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<n]))
            return n
        }
        if got < count && ferror(fp) != 0 { throw .runtime("\(file): reading failed (\(String(cString: strerror(errno))))") }
        return got
    }
}

/// One record of a CSV file: its fields and the line it starts on.
public struct CSVRecord {
    /// The 1-based line number the record starts on.
    public private(set) var line = 0
    private var storage: [UInt8] = []
    private var ends: [Int] = []
    private var fieldStart = 0

    init() {
        storage.reserveCapacity(256)
        ends.reserveCapacity(16)
    }

    mutating func reset(line: Int) {
        self.line = line
        storage.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    mutating func append(_ byte: UInt8) { storage.append(byte) }
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) { storage.append(contentsOf: bytes) }
    mutating func endField() { ends.append(storage.count) }

    public var count: Int { ends.count }

    private func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }

    public func isEmpty(_ i: Int) -> Bool { i >= count || range(i).isEmpty }

    /// The field's text, or `nil` if it is not valid UTF-8. Out-of-range indexes read as "".
    public func string(_ i: Int) -> String? {
        guard i < count else { return "" }
        return storage.withUnsafeBufferPointer { String(validating: $0[range(i)], as: UTF8.self) }
    }

    /// Runs `body` on the bytes of a field without what `trimmingSpaces` trims around it
    /// (spaces, tabs, CR, LF, no-break spaces; empty when out of range): the fast path
    /// of the importers.
    public func withTrimmedBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withBytes(i) { b in
            var lo = 0, hi = b.count
            while lo < hi {
                let c = b[lo]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { lo += 1 }
                else if c == 0xC2, lo + 1 < hi, b[lo + 1] == 0xA0 { lo += 2 }
                else { break }
            }
            while hi > lo {
                let c = b[hi - 1]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { hi -= 1 }
                else if c == 0xA0, hi - 2 >= lo, b[hi - 2] == 0xC2 { hi -= 2 }
                else { break }
            }
            return try body(UnsafeBufferPointer(rebasing: b[lo..<hi]))
        }
    }

    /// The fields holding a NUL or bytes that are not UTF-8, in order (one entry per
    /// field; `nul` when it holds a NUL).
    func defects() -> [(field: Int, nul: Bool)] {
        storage.withUnsafeBufferPointer { buf in
            // Most records are ASCII without a NUL: one pass over the bytes says so.
            var high: UInt8 = 0, low: UInt8 = 0xFF
            for b in buf {
                high |= b
                low = Swift.min(low, b)
            }
            guard high >= 0x80 || low == 0 else { return [] }
            var out: [(field: Int, nul: Bool)] = []
            for i in 0..<count {
                let field = UnsafeBufferPointer(rebasing: buf[range(i)])
                if field.contains(0) {
                    out.append((i, true))
                } else if !Self.isUTF8(field) {
                    out.append((i, false))
                }
            }
            return out
        }
    }

    /// Whether the bytes are valid UTF-8 (no overlong forms, surrogates or code points
    /// past U+10FFFF). By hand: twice as fast as `Unicode.UTF8.ForwardParser` on text
    /// that is mostly not ASCII.
    static func isUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        func continuation(_ k: Int) -> Bool { b[k] & 0xC0 == 0x80 }
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i += 1
            } else if c < 0xC2 {
                return false
            } else if c < 0xE0 {
                guard i + 1 < n, continuation(i + 1) else { return false }
                i += 2
            } else if c < 0xF0 {
                guard i + 2 < n, continuation(i + 1), continuation(i + 2),
                      c != 0xE0 || b[i + 1] >= 0xA0, c != 0xED || b[i + 1] < 0xA0 else { return false }
                i += 3
            } else if c < 0xF5 {
                guard i + 3 < n, continuation(i + 1), continuation(i + 2), continuation(i + 3),
                      c != 0xF0 || b[i + 1] >= 0x90, c != 0xF4 || b[i + 1] < 0x90 else { return false }
                i += 4
            } else {
                return false
            }
        }
        return true
    }

    /// Runs `body` on the raw bytes of a field (empty when out of range).
    public func withBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        guard i < count else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[range(i)])) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    public var trimmingSpaces: String {
        // Most cells have nothing to trim: check the end bytes before walking characters.
        let whole = String(self)
        if let first = whole.utf8.first, let last = whole.utf8.last, !isSpaceEdge(first), !isSpaceEdge(last) {
            return whole
        }
        // By scalars, not characters: CRLF is one character, and "Bob\r\n" ends with it.
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{00A0}" }
        let scalars = whole.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

}

/// Bytes a trimmed text cannot start or end with: ASCII spaces and the bytes of U+00A0 (C2 A0).
private func isSpaceEdge(_ b: UInt8) -> Bool {
    b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0xC2 || b == 0xA0
}
