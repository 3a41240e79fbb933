import Foundation
import Yams

/// Guards in front of Yams' decoder for what a hand-written or hostile file can hold.
enum YAMLSafety {
    /// Scalars that would trap Yams when read as an `Int`: it takes any text with a colon
    /// for a base-60 number (`1:30:00`, quoted or not) and multiplies without overflow
    /// checks, so eleven parts, or large ones, end the process. These are refused
    /// first, each with its line. (Found by the fuzz tests.)
    static func oversizedBase60(in node: Node) -> [Int?] {
        var lines: [Int?] = []
        func visit(_ n: Node) {
            switch n {
            case let .scalar(s):
                if wouldOverflowAsBase60(s.string) { lines.append(n.mark.map { $0.line }) }
            case let .mapping(m):
                for (k, v) in m { visit(k); visit(v) }
            case let .sequence(q):
                for v in q { visit(v) }
            case .alias:
                break
            }
        }
        visit(node)
        return lines
    }

    /// Yams' `String.sexagesimal()` for `Int`, with the overflows reported instead of trapped.
    static func wouldOverflowAsBase60(_ text: String) -> Bool {
        let s = text.replacingOccurrences(of: "_", with: "")
        guard s.contains(":") else { return false }
        let parts = s.components(separatedBy: ":").map { Int($0, radix: 10) }
        guard parts.allSatisfy({ $0 != nil }) else { return false }
        var value = 0, base = 1
        for d in parts.reversed().map({ $0! }) {
            let (term, o1) = d.multipliedReportingOverflow(by: base)
            let (sum, o2) = value.addingReportingOverflow(term)
            let (next, o3) = base.multipliedReportingOverflow(by: 60)
            if o1 || o2 || o3 { return true }
            (value, base) = (sum, next)
        }
        return false
    }
}
