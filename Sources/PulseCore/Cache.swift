import Foundation

/// A small thread-safe cache that empties itself when it grows past `limit`: for values
/// that are costly to make and few in use at once (rendered templates, decoded survey
/// versions).
public final class BoundedCache<Key: Hashable & Sendable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Key: Value] = [:]
    private let limit: Int

    public init(limit: Int) { self.limit = limit }

    public subscript(key: Key) -> Value? {
        get { lock.withLock { entries[key] } }
        set {
            lock.withLock {
                if entries.count >= limit { entries.removeAll() }
                entries[key] = newValue
            }
        }
    }
}

/// HTML escaping as Mustache's `{{ }}` does it, for values put into rendered pages.
public func htmlEscaped(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}
