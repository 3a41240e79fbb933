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
    private let bytes: [UInt8]
    private let bodyStart: Int
    private let headerLine: [String]
    private let firstBodyLine: Int

    /// The header cells as written (trimmed of surrounding spaces).
    public var header: [String] { headerLine }

    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - file: the name used in error messages.
    ///   - delimiter: `nil` to take a semicolon when the header has semicolons and no commas.
    /// - Throws: `PulseError.invalidInput` for an empty file or a malformed header.
    public init(bytes: [UInt8], file: String, delimiter: UInt8? = nil) throws(PulseError) {
        self.file = file
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        self.bytes = bytes
        if let delimiter {
            self.delimiter = delimiter
        } else {
            var commas = 0, semicolons = 0, i = start, inQuotes = false
            while i < bytes.count {
                let b = bytes[i]
                if b == Self.quote { inQuotes.toggle() }
                else if !inQuotes && (b == Self.lf || b == Self.cr) { break }
                else if !inQuotes && b == Self.comma { commas += 1 }
                else if !inQuotes && b == Self.semicolon { semicolons += 1 }
                i += 1
            }
            self.delimiter = semicolons > 0 && commas == 0 ? Self.semicolon : Self.comma
        }
        var cursor = Cursor(position: start, line: 1)
        var record = CSVRecord()
        guard try Self.next(&record, bytes: bytes, cursor: &cursor, delimiter: self.delimiter, file: file) else {
            throw .input(InputIssue(file: file, "the file is empty: a header row is required"))
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
    public func forEachRecord(_ body: (CSVRecord) throws(PulseError) -> Void) throws(PulseError) {
        var cursor = Cursor(position: bodyStart, line: firstBodyLine)
        var record = CSVRecord()
        while try Self.next(&record, bytes: bytes, cursor: &cursor, delimiter: delimiter, file: file) {
            if record.count == 1 && record.isEmpty(0) { continue }
            try body(record)
        }
    }

    struct Cursor {
        var position: Int
        var line: Int
    }

    static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), semicolon = UInt8(ascii: ";")
    static let lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    /// Reads one record at the cursor into `record`; `false` at the end of the input.
    private static func next(_ record: inout CSVRecord, bytes: [UInt8], cursor: inout Cursor,
                             delimiter: UInt8, file: String) throws(PulseError) -> Bool {
        var i = cursor.position
        let n = bytes.count
        guard i < n else { return false }
        record.reset(line: cursor.line)
        var line = cursor.line
        return try bytes.withUnsafeBufferPointer { buf -> Result<Bool, PulseError> in
            var fieldStart = true
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
                            i += 1
                            closed = true
                            break
                        }
                        if c == lf { line += 1 }
                        record.append(c)
                        i += 1
                    }
                    guard closed else {
                        return .failure(.input(InputIssue(file: file, line: openLine,
                            "a quoted field is never closed (a \" is missing)")))
                    }
                    if i < n, buf[i] != delimiter, buf[i] != lf, buf[i] != cr {
                        return .failure(.input(InputIssue(file: file, line: line,
                            "unexpected text after a closing quote; quotes inside a field are written as \"\"")))
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
                    i += (b == cr && i + 1 < n && buf[i + 1] == lf) ? 2 : 1
                    line += 1
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
            record.endField()
            cursor.position = i
            cursor.line = line
            return .success(true)
        }.get()
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

    /// Runs `body` on the raw bytes of a field (empty when out of range).
    public func withBytes<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        guard i < count else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try storage.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[range(i)])) }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    public var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{00A0}" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
