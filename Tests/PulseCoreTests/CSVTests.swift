import Foundation
import Testing
@testable import PulseCore

@Suite("CSV reader and writer")
struct CSVTests {
    func rows(_ text: String, delimiter: UInt8? = nil) throws -> (header: [String], rows: [(line: Int, cells: [String])]) {
        let reader = try CSVReader(bytes: Array(text.utf8), file: "t.csv", delimiter: delimiter)
        var out: [(Int, [String])] = []
        try reader.forEachRecord { r in out.append((r.line, (0..<r.count).map { r.string($0) ?? "<bad>" })) }
        return (reader.header, out)
    }

    @Test func bomCrlfAndQuotes() throws {
        let t = "\u{FEFF}email, name \r\na@x.example,\"Doe, Jane \"\"JD\"\"\"\r\nb@x.example,\"two\r\nlines\"\r\n\r\nc@x.example,Ирина\r\n"
        let (header, rows) = try rows(t)
        #expect(header == ["email", "name"])
        #expect(rows.map(\.line) == [2, 3, 6])
        #expect(rows[0].cells == ["a@x.example", "Doe, Jane \"JD\""])
        #expect(rows[1].cells == ["b@x.example", "two\r\nlines"])
        #expect(rows[2].cells == ["c@x.example", "Ирина"])
    }

    @Test func semicolonIsDetectedFromTheHeader() throws {
        let (header, rows) = try rows("email;revenue\na@x.example;\"1,5\"\n")
        #expect(header == ["email", "revenue"])
        #expect(rows[0].cells == ["a@x.example", "1,5"])
        let (h2, _) = try self.rows("a,b;c\n1,2\n")
        #expect(h2 == ["a", "b;c"])
    }

    @Test func noFinalNewlineAndEmptyCells() throws {
        let (_, rows) = try rows("a,b,c\n1,,3\n,,")
        #expect(rows.map(\.cells) == [["1", "", "3"], ["", "", ""]])
    }

    @Test func errorsNameFileAndLine() throws {
        #expect(throws: PulseError.input(InputIssue(file: "t.csv", "the file is empty: a header row is required"))) {
            _ = try CSVReader(bytes: [], file: "t.csv")
        }
        do {
            _ = try rows("a,b\n1,2\n3,\"open\n")
            Issue.record("an unterminated quote was accepted")
        } catch let PulseError.invalidInput(issues) {
            #expect(issues.first?.file == "t.csv")
            #expect(issues.first?.line == 3)
        }
    }

    /// A file read in 1 MiB chunks gives the records the in-memory reader gives, with
    /// quoted fields, CRLF and multi-line cells falling across chunk boundaries.
    @Test func streamedFilesReadLikeBytesInMemory() throws {
        var rng = SeededGenerator(seed: 7)
        let pieces = ["plain", "\"quoted, with comma\"", "\"two\r\nlines\"", "\"a \"\"quote\"\"\"", "", "Ирина", "ไทย", "1 234,50 ₽"]
        var text = "\u{FEFF}email;\"note\";n\r\n"
        var line = 0
        while text.utf8.count < 3 << 20 {
            line += 1
            let note = pieces[Int(rng.next() % UInt64(pieces.count))]
            text += "r\(line)@x.example;\(note);\(rng.next() % 1000)\(line % 3 == 0 ? "\r\n" : "\n")"
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-csv-\(UUID().uuidString).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        func records(_ reader: CSVReader) throws -> [[String]] {
            var out: [[String]] = []
            try reader.forEachRecord { r in out.append(["\(r.line)"] + (0..<r.count).map { r.string($0) ?? "<bad>" }) }
            return out
        }
        let streamed = try CSVReader(path: path, file: "t.csv"), inMemory = try CSVReader(bytes: Array(text.utf8), file: "t.csv")
        #expect(streamed.header == ["email", "note", "n"] && streamed.delimiter == UInt8(ascii: ";"))
        let a = try records(streamed), b = try records(inMemory)
        #expect(a.count == line && a == b)
        // An unclosed quote at the very end is still an error with its line.
        try Data((text + "r0@x.example;\"open").utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: PulseError.self) { _ = try records(CSVReader(path: path, file: "t.csv")) }
    }

    /// The issues a file is refused with, read in memory and streamed from disk (both must agree).
    func refusal(_ bytes: [UInt8], delimiter: UInt8? = nil) throws -> [InputIssue] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pulse-csv-\(UUID().uuidString).csv").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var found: [[InputIssue]] = []
        for reader in [try CSVReader(bytes: bytes, file: "t.csv", delimiter: delimiter),
                       try CSVReader(path: path, file: "t.csv", delimiter: delimiter)] {
            do {
                try reader.forEachRecord { _ in }
                found.append([])
            } catch {
                guard case let .invalidInput(issues) = error else { throw error }
                found.append(issues)
            }
        }
        #expect(found[0] == found[1], "streamed and in memory")
        return found[0]
    }

    @Test func nulBytesAreRefusedWithTheirLine() throws {
        // Stored, a NUL cut the cell short: two such rows became one rep.
        let issues = try refusal(Array("email,name\na\u{0}@x.example,A\nb@x.example,B\na\u{0}@y.example,\"two\nlines\"\n".utf8))
        #expect(issues.map(\.line) == [2, 4])
        #expect(issues.allSatisfy { $0.field == "email" && $0.message.contains("NUL") }, "\(issues)")
        let inQuotes = try refusal(Array("email,name\nb@x.example,\"two\nli\u{0}nes\"\n".utf8))
        #expect(inQuotes.map(\.line) == [2] && inQuotes.first?.field == "name", "\(inQuotes)")
        // A UTF-16 file is all NULs: said at the header.
        let utf16 = Array("email,name\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(throws: PulseError.self) { _ = try CSVReader(bytes: [0xFF, 0xFE] + utf16, file: "t.csv") }
        do {
            _ = try CSVReader(bytes: utf16, file: "t.csv")
            Issue.record("a UTF-16 header was read")
        } catch {
            #expect(error.exitCode == 65)
            guard case let .invalidInput(issues) = error else { return }
            #expect(issues.first?.line == 1 && issues.first?.message.contains("UTF-16") == true, "\(issues)")
        }
    }

    @Test func raggedRowsAreRefusedWithTheirLine() throws {
        let issues = try refusal(Array("email,name,team\na@x.example,A,west\nb@x.example,B\nc@x.example\n\nd@x.example,Smith, John,west\ne@x.example,E,west,\n".utf8))
        #expect(issues.map(\.line) == [3, 4, 6, 7], "\(issues)")
        try #require(issues.count == 4)
        #expect(issues[0].field == "team" && issues[0].message.contains("has 2 fields but the header has 3")
                && issues[0].message.contains("the last field (team) is missing"), "\(issues[0])")
        #expect(issues[1].field == "name" && issues[1].message.contains("has 1 field but the header has 3: the last 2 fields (name, team) are missing"), "\(issues[1])")
        #expect(issues[2].field == nil && issues[2].message.contains("has 4 fields but the header has 3")
                && issues[2].message.contains("in quotes"), "\(issues[2])")
        #expect(issues[3].message.contains("has 4 fields"), "a trailing delimiter is a field too: \(issues[3])")
        // Blank lines are still skipped, and a one-column file's rows are whole.
        #expect(try refusal(Array("email\na@x.example\n\n\nb@x.example".utf8)).isEmpty)
        let semicolons = try refusal(Array("email;name\na@x.example\n".utf8))
        #expect(semicolons.first?.message.contains("end the line with \";\"") == true, "\(semicolons)")
    }

    @Test func invalidUTF8IsRefusedAsInvalidText() throws {
        let issues = try refusal(Array("email,date,calls\na@x.example,2026-11-02,".utf8) + [0xFF, 0x31] + Array("\n\"b\n".utf8) + [0xC3]
                                 + Array("\",2026-11-02,3\nc@x.example,2026-11-02,".utf8) + [0xE0, 0xB8] + Array("\n".utf8))
        #expect(issues.map(\.line) == [2, 3, 5], "\(issues)")
        #expect(issues.map(\.field) == ["calls", "email", "calls"])
        #expect(issues.allSatisfy { $0.message.hasPrefix("is not valid UTF-8") }, "\(issues)")
        // Valid text of every script still reads.
        #expect(try refusal(Array("name\nИрина ไทย 日本 👍🏽\n".utf8)).isEmpty)
    }

    /// The reader's own UTF-8 check agrees with the standard library's on random bytes
    /// near UTF-8 (lead and continuation bytes, overlong forms, surrogates, past U+10FFFF).
    @Test func theUTF8CheckAgreesWithTheStandardLibrary() {
        var rng = SeededGenerator(seed: 11)
        let bytes: [UInt8] = [0x41, 0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0, 0x9F, 0xED, 0xEF, 0xF0, 0x90,
                              0x8F, 0xF4, 0xF5, 0xFF]
        for _ in 0..<50_000 {
            let b = (0..<Int(rng.next() % 7)).map { _ in bytes[Int(rng.next() % UInt64(bytes.count))] }
            let ours = b.withUnsafeBufferPointer { CSVRecord.isUTF8($0) }
            #expect(ours == (String(validating: b, as: UTF8.self) != nil), "\(b)")
            if ours != (String(validating: b, as: UTF8.self) != nil) { return }
        }
    }

    @Test func lineBreaksAtAFieldsEdgeAreTrimmedLikeSpaces() throws {
        #expect("Bob\r\n".trimmingSpaces == "Bob" && "\r\n".trimmingSpaces == "" && "\r\nBob \u{A0}".trimmingSpaces == "Bob")
        #expect("a\r\nb".trimmingSpaces == "a\r\nb", "only the edges")
        let (header, rows) = try rows("\"email\r\n\",n\n\"Bob\r\n\",\"\r\n12\r\n\"\n")
        #expect(header == ["email", "n"])
        #expect(rows[0].cells == ["Bob\r\n", "\r\n12\r\n"], "the reader keeps the cell as written")
        let reader = try CSVReader(bytes: Array("n,m\n\"\r\n12\r\n\",\"\u{A0}7\t\"\n".utf8), file: "t.csv")
        try reader.forEachRecord { r in
            #expect(r.withTrimmedBytes(0) { Array($0) } == Array("12".utf8))
            #expect(r.withTrimmedBytes(1) { Array($0) } == Array("7".utf8))
        }
    }

    @Test func errorsInAMultiLineQuotedFieldNameTheLineTheRecordStartsOn() throws {
        do {
            _ = try rows("a,b\n1,\"two\nlines\"x\n")
            Issue.record("text after a closing quote was accepted")
        } catch let PulseError.invalidInput(issues) {
            #expect(issues.first?.line == 2, "\(issues)")
            #expect(issues.first?.message.contains("closes on line 3") == true, "\(issues)")
        }
        do {
            _ = try rows("a,b\n\"x\ny\",\"open\n")
            Issue.record("an unclosed quote was accepted")
        } catch let PulseError.invalidInput(issues) {
            #expect(issues.first?.line == 2, "\(issues)")
        }
        // A lone CR inside quotes ends a line as it does outside them.
        let (_, r) = try rows("a,b\n\"x\ry\",1\nc,2\rd,3\n")
        #expect(r.map(\.line) == [2, 4, 5])
    }

    @Test func writerQuotesAndNeutralisesFormulas() {
        var w = CSVWriter()
        w.header(["group", "note", "n"])
        w.row([.text("=HYPERLINK(\"x\")"), .text("a,b"), .int(3)])
        w.row([.text("+1"), .text("-2"), .number(-2.5)])
        w.row([.text("@SUM(A1)"), .text(nil), .number(nil)])
        #expect(w.text == "group,note,n\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b\",3\r\n'+1,'-2,-2.5\r\n'@SUM(A1),,\r\n")
    }

    @Test func jsonEscapesAndKeepsKeyOrder() {
        let j = JSON.object([("b", .string("line\n\"q\" \u{1}")), ("a", .array([.int(1), .double(2.5), .null, .bool(true)]))])
        #expect(j.serialized() == #"{"b": "line\n\"q\" \u0001", "a": [1, 2.5, null, true]}"#)
    }

    @Test func displayWidthCountsThaiMarksAndWideScripts() {
        #expect(displayWidth("ทดสอบ") == 5)
        #expect(displayWidth("ที่") == 1)
        #expect(displayWidth("日本") == 4)
        #expect(displayWidth("Ирина") == 5)
        #expect(sparkline([0, 50, 100, nil]) == "▁▅█ ")
        #expect(displayWidth("team-07 (none)\t~") == 16, "ASCII: a column a byte")
    }

    @Test func fixedDecimalsWriteWhatPrintfWrites() {
        var rng = SeededGenerator(seed: 1_205)
        var values: [Double] = [0, -0.0, 0.05, 0.15, 0.25, 0.35, -0.25, -0.04, 2.5, 3.5, 1e-300, -1e-300, 0x1p52 / 1000, 99.95, 0.125, 0.375,
                                .infinity, -.infinity, .nan, 1e300, 4503599627370495.5]
        for _ in 0..<20_000 {
            values.append(Double(Int.random(in: -100_000...100_000, using: &rng)) / [8, 100, 1_000, 3, 7][Int.random(in: 0..<5, using: &rng)])
            values.append(Double.random(in: -1e6...1e6, using: &rng))
            values.append(Double(Int.random(in: -2_000...2_000, using: &rng)) / 20 + [0, 1e-12, -1e-12, 0x1p-40][Int.random(in: 0..<4, using: &rng)])
        }
        for v in values {
            for places in 0...4 {
                #expect(fixedDecimals(v, places: places) == String(format: "%.\(places)f", v), "\(v) to \(places)")
            }
        }
    }
}

/// The seeded generator of PulseCore (SplitMix64), so that a failing case can be run again.
typealias SeededGenerator = SeededRandom
