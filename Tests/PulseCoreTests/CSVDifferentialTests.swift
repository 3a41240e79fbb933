import Foundation
import Testing
@testable import PulseCore

/// The CSV reader against Python's `csv` module (strict mode) on random files: quotes,
/// doubled quotes, CR, LF and CRLF inside and between records, BOMs, empty and long
/// fields, blank lines, every script, and now and then a ragged row, a NUL, a byte
/// that is not UTF-8, text after a closing quote or a quote never closed; a few files
/// are as large as the reader's chunk, with a record across its edge.
///
/// Where Python reads a file, both readers (in memory and streamed from disk) must give
/// the same records, field for field and byte for byte, starting on the same lines, or,
/// where a record is ragged or holds a NUL or invalid UTF-8, refuse the file naming
/// exactly those records' lines. Where Python refuses a file, the reader must refuse it.
/// Runs for `PULSE_CSV_DIFF_SECONDS` (3 by default) and at least `minimumFiles` files;
/// `PULSE_CSV_DIFF_SEED` replays a run.
@Suite("CSV reader against Python's csv module")
struct CSVDifferentialTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/csv_reference.py")
    static var seconds: Double { Double(ProcessInfo.processInfo.environment["PULSE_CSV_DIFF_SECONDS"] ?? "") ?? 3 }
    static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["PULSE_CSV_DIFF_SEED"] ?? "") ?? 20_261_201 }
    /// Enough for every kind of file to come up many times; a debug build compares
    /// about a hundred files a second.
    static let minimumFiles = 300
    static let batchSize = 100

    /// One random file and what it is made of.
    struct Case {
        var bytes: [UInt8]
        var delimiter: UInt8
    }

    // MARK: - Generating files

    static let plainPieces: [[UInt8]] = [
        "a", "Bob", "12", "1 234,50", "x y", " ", "  lead", "trail  ", "\t", "é", "e\u{301}", "ไทย", "Ирина", "日本", "👍🏽",
        "\u{A0}", "\u{2028}", "\u{FEFF}", "a\"b", "it's", "=1+1", "@x.example", "-", "0",
    ].map { Array($0.utf8) }
    /// Inside quotes: also delimiters, quotes (doubled when written) and line breaks.
    static let quotedPieces: [[UInt8]] = plainPieces
        + [",", ";", "\"", "\n", "\r\n", "\r", "\r\r\n", "\n\n", "a,b", "x;y", "\"\""].map { Array($0.utf8) }

    static func pick<T>(_ items: [T], _ rng: inout SeededGenerator) -> T { items[Int(rng.next() % UInt64(items.count))] }
    static func chance(_ p: Double, _ rng: inout SeededGenerator) -> Bool { Double(rng.next() % 1_000_000) / 1_000_000 < p }

    static let quote = UInt8(ascii: "\"")

    /// `content` in quotes, its quotes doubled.
    static func quoted(_ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [quote]
        out.reserveCapacity(content.count + 2)
        for b in content {
            out.append(b)
            if b == quote { out.append(quote) }
        }
        out.append(quote)
        return out
    }

    /// The bytes of one field as written in the file (quoted or not).
    static func field(_ delimiter: UInt8, _ rng: inout SeededGenerator, header: Bool = false) -> [UInt8] {
        let kind = Int(rng.next() % 10)
        if kind == 0 && !header { return [] }
        if kind <= 5 {
            // Unquoted: no delimiter, no line break, no quote at the start.
            var b: [UInt8] = []
            for _ in 0..<(1 + Int(rng.next() % 4)) { b += pick(plainPieces, &rng) }
            b.removeAll { $0 == delimiter }
            while b.first == quote { b.removeFirst() }
            if header && String(decoding: b, as: UTF8.self).trimmingSpaces.isEmpty { b = Array("h\(rng.next() % 100)".utf8) }
            return b
        }
        // Quoted, now and then long.
        var b: [UInt8] = []
        let count = !header && chance(0.02, &rng) ? 100 + Int(rng.next() % 1000) : Int(rng.next() % 6)
        for _ in 0..<count { b += pick(header ? plainPieces : quotedPieces, &rng) }
        if header && String(decoding: b, as: UTF8.self).trimmingSpaces.isEmpty { b = Array("q\(rng.next() % 100)".utf8) }
        return quoted(b)
    }

    static func lineEnd(_ style: Int, _ rng: inout SeededGenerator) -> [UInt8] {
        switch style == 3 ? Int(rng.next() % 3) : style {
        case 0: [0x0A]
        case 1: [0x0D, 0x0A]
        default: [0x0D]
        }
    }

    /// Puts `bytes` at the end of a field's content (inside its quotes when it has them),
    /// where they cannot join the bytes that follow into one character.
    static func spoil(_ field: [UInt8], with bytes: [UInt8]) -> [UInt8] {
        if field.count >= 2, field.first == quote, field.last == quote {
            return field.dropLast() + bytes + [quote]
        }
        return field + bytes
    }

    static func makeCase(_ rng: inout SeededGenerator, nearChunk: Bool = false) -> Case {
        let delimiter = chance(0.5, &rng) ? UInt8(ascii: ",") : UInt8(ascii: ";")
        let columns = 1 + Int(rng.next() % 6)
        let style = Int(rng.next() % 4)
        var bytes: [UInt8] = chance(0.3, &rng) ? [0xEF, 0xBB, 0xBF] : []
        bytes += (0..<columns).map { _ in field(delimiter, &rng, header: true) }.joined(separator: [delimiter])
        let rows = nearChunk ? Int.max : Int(rng.next() % (chance(0.1, &rng) ? 200 : 30))
        let defects = !nearChunk && chance(0.25, &rng)
        let target = CSVReader.chunkSize - Int(rng.next() % 300)
        var written = 0
        if nearChunk { bytes.reserveCapacity(CSVReader.chunkSize + 100_000) }
        while written < rows {
            if nearChunk && bytes.count >= target { break }
            written += 1
            bytes += lineEnd(style, &rng)
            if nearChunk && bytes.count < target - 4096 {
                // Far from the edge, a few long records: bytes cost less to compare than records.
                let long = [UInt8](repeating: UInt8(ascii: "a") + UInt8(rng.next() % 26), count: min(60_000, target - 4096 - bytes.count))
                bytes += ([quoted(long)] + (1..<columns).map { _ in field(delimiter, &rng) }).joined(separator: [delimiter])
                continue
            }
            if chance(0.04, &rng) { bytes += lineEnd(style, &rng) }
            var n = columns
            if defects && chance(0.05, &rng) { n += chance(0.5, &rng) ? 1 : -1 }
            var fields = (0..<max(1, n)).map { _ in field(delimiter, &rng) }
            if defects && chance(0.03, &rng) {
                let i = Int(rng.next() % UInt64(fields.count))
                fields[i] = spoil(fields[i], with: pick([[0xFF], [0xC3], [0xE0, 0xB8], [0x00], [0x41, 0x00, 0x42]], &rng))
            }
            if defects && chance(0.01, &rng) { fields[fields.count - 1] = Array("\"closed\"then".utf8) }
            bytes += fields.joined(separator: [delimiter])
        }
        if nearChunk {
            // Records across the chunk's edge: multi-line quoted fields, a CRLF split in two.
            for _ in 0..<8 {
                bytes += lineEnd(style, &rng)
                bytes += (0..<columns).map { _ in
                    quoted((0..<(1 + Int(rng.next() % 40))).flatMap { _ in pick(quotedPieces, &rng) })
                }.joined(separator: [delimiter])
            }
        }
        if defects && chance(0.02, &rng) { bytes += lineEnd(style, &rng) + Array("\"never closed".utf8) }
        if chance(0.7, &rng) { bytes += lineEnd(style, &rng) }
        return Case(bytes: bytes, delimiter: delimiter)
    }

    // MARK: - The reference

    struct Reference: Decodable {
        struct Record: Decodable {
            var line: Int
            var fields: [String]
            var invalid: Bool
            var nul: [Int]
        }
        var error: String?
        var records: [Record]?
    }

    /// Python's reading of each file, in one python3 run for the batch.
    static func reference(_ paths: [(path: String, delimiter: UInt8)], in dir: URL) throws -> [Reference] {
        let manifest = dir.appendingPathComponent("manifest.json"), out = dir.appendingPathComponent("out.json")
        let entries = paths.map { ["path": $0.path, "delimiter": String(UnicodeScalar($0.delimiter))] }
        try JSONSerialization.data(withJSONObject: entries).write(to: manifest)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script.path, manifest.path, out.path]
        let err = dir.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PythonError(message: "python3 \(script.lastPathComponent) exited with \(p.terminationStatus): "
                              + ((try? String(contentsOf: err, encoding: .utf8)) ?? ""))
        }
        return try JSONDecoder().decode([Reference].self, from: Data(contentsOf: out))
    }

    struct PythonError: Error, CustomStringConvertible { var message: String; var description: String { message } }

    // MARK: - Comparing

    /// What a reader did with a file, or must do with it given what Python read.
    enum Outcome {
        case records(header: [[UInt8]], rows: [(line: Int, fields: [[UInt8]])])
        /// Refused, naming these lines.
        case refusedAt(Set<Int>)
        /// Refused (Python's own errors name lines in its own way: any refusal will do).
        case refused

        func matches(_ want: Outcome) -> Bool {
            switch (self, want) {
            case let (.records(h1, r1), .records(h2, r2)):
                h1 == h2 && r1.count == r2.count && zip(r1, r2).allSatisfy { $0.line == $1.line && $0.fields == $1.fields }
            case let (.refusedAt(x), .refusedAt(y)): x == y
            case (.refused, .refused), (.refusedAt, .refused): true
            default: false
            }
        }
    }

    static func expected(_ reference: Reference) -> Outcome {
        guard let records = reference.records else { return .refused }
        guard let first = records.first else { return .refused }
        // A blank first line is a header of one empty name to the reader.
        let header = first.fields.isEmpty ? Reference.Record(line: first.line, fields: [""], invalid: false, nul: []) : first
        // Blank lines (and a line of one empty quoted field) are skipped by the reader.
        let body = records.dropFirst().filter { !($0.fields.isEmpty || $0.fields == [""]) }
        let bad = body.filter { $0.fields.count != header.fields.count || $0.invalid || !$0.nul.isEmpty }.map(\.line)
        if !bad.isEmpty { return .refusedAt(Set(bad)) }
        return .records(header: header.fields.map { Array($0.trimmingSpaces.utf8) }, rows: body.map { ($0.line, $0.fields.map { Array($0.utf8) }) })
    }

    static func actual(_ make: () throws -> CSVReader) -> Outcome {
        do {
            let reader = try make()
            var rows: [(line: Int, fields: [[UInt8]])] = []
            try reader.forEachRecord { r in
                rows.append((r.line, (0..<r.count).map { i in r.withBytes(i) { Array($0) } }))
            }
            return .records(header: reader.header.map { Array($0.utf8) }, rows: rows)
        } catch let PulseError.invalidInput(issues) {
            let lines = issues.compactMap(\.line)
            return lines.isEmpty || issues.contains { $0.file != "f.csv" } ? .refused : .refusedAt(Set(lines))
        } catch {
            return .refused
        }
    }

    /// An outcome in brief, from the first record where it differs from `other`.
    static func describe(_ e: Outcome, against other: Outcome) -> String {
        func text(_ fields: [[UInt8]]) -> String {
            fields.map { String(decoding: $0, as: UTF8.self).debugDescription.prefix(80) }.joined(separator: ", ")
        }
        switch e {
        case let .records(header, rows):
            var from = 0
            if case let .records(_, otherRows) = other {
                from = (0..<min(rows.count, otherRows.count)).first { rows[$0].line != otherRows[$0].line || rows[$0].fields != otherRows[$0].fields } ?? min(rows.count, otherRows.count)
            }
            let shown = rows.dropFirst(from).prefix(3).map { "line \($0.line): [\(text($0.fields))]" }.joined(separator: "; ")
            return "header [\(text(header))], \(rows.count) records; from record \(from): \(shown.isEmpty ? "none" : shown)"
        case let .refusedAt(lines): return "refused at lines \(lines.sorted().prefix(20))"
        case .refused: return "refused"
        }
    }

    @Test func theReaderReadsWhatPythonsCSVModuleReads() throws {
        var rng = SeededGenerator(seed: Self.seed)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-csv-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = Date()
        var files = 0, records = 0, refusedByBoth = 0, nearChunk = 0, failures = 0
        var generating = 0.0, python = 0.0, reading = 0.0
        func timed<T>(_ total: inout Double, _ work: () throws -> T) rethrows -> T {
            let t = Date()
            defer { total += Date().timeIntervalSince(t) }
            return try work()
        }
        while files < Self.minimumFiles || Date().timeIntervalSince(started) < Self.seconds {
            // Two files as large as the reader's chunk in a run: they cost more than the rest.
            let cases = timed(&generating) {
                (0..<Self.batchSize).map { i in Self.makeCase(&rng, nearChunk: i == 0 && nearChunk < 2) }
            }
            var paths: [(path: String, delimiter: UInt8)] = []
            for (i, c) in cases.enumerated() {
                let path = dir.appendingPathComponent("f\(i).csv").path
                try Data(c.bytes).write(to: URL(fileURLWithPath: path))
                paths.append((path, c.delimiter))
            }
            let references = try timed(&python) { try Self.reference(paths, in: dir) }
            try #require(references.count == cases.count)
            for (i, c) in cases.enumerated() {
                let want = Self.expected(references[i])
                let (inMemory, streamed) = timed(&reading) {
                    (Self.actual { try CSVReader(bytes: c.bytes, file: "f.csv", delimiter: c.delimiter) },
                     Self.actual { try CSVReader(path: paths[i].path, file: "f.csv", delimiter: c.delimiter) })
                }
                if !inMemory.matches(want) || !streamed.matches(want) {
                    failures += 1
                    let saved = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-csv-diff-\(Self.seed)-\(files + i).csv")
                    try? Data(c.bytes).write(to: saved)
                    Issue.record("""
                        file \(files + i) of seed \(Self.seed) (saved to \(saved.path)), delimiter \(UnicodeScalar(c.delimiter)):
                        python:    \(Self.describe(want, against: inMemory))\(references[i].error.map { " (\($0))" } ?? "")
                        in memory: \(Self.describe(inMemory, against: want))
                        streamed:  \(Self.describe(streamed, against: want))
                        """)
                    if failures >= 3 { return }
                }
                switch want {
                case let .records(_, rows): records += rows.count
                default: refusedByBoth += 1
                }
            }
            files += cases.count
            nearChunk = min(nearChunk + 1, 2)
        }
        print("CSV differential: \(files) files (\(nearChunk) of about \(CSVReader.chunkSize) bytes), \(records) records compared, "
              + "\(refusedByBoth) files refused by both, seed \(Self.seed), in \(String(format: "%.1f", Date().timeIntervalSince(started))) s "
              + "(generating \(String(format: "%.1f", generating)) s, python3 \(String(format: "%.1f", python)) s, "
              + "reading and comparing \(String(format: "%.1f", reading)) s)")
        #expect(files >= Self.minimumFiles)
    }
}
