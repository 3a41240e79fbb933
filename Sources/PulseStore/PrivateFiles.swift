import Foundation
import PulseCore

/// Files that hold answers and personal links (the database, its backups, the mail in
/// the file outbox) are made readable and writable by their owner only, whatever the
/// umask: created with mode 0600 from their first byte, never opened up and closed later.
/// SQLite gives a database's `-wal`, `-shm` and `-journal` the mode of the database file.
public enum PrivateFile {
    public static let mode: mode_t = 0o600

    /// Creates an empty file with mode 0600; fails when something is already there.
    public static func createEmpty(atPath path: String) throws(PulseError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .runtime("cannot create \(path): \(String(cString: strerror(errno)))") }
        // The umask may have taken bits away, never added any; fchmod makes it exact.
        _ = fchmod(fd, mode)
        close(fd)
    }

    /// Writes `data` into `path` whole or not at all (a temporary file beside it, renamed
    /// over it), with mode 0600 whatever mode a file already there had.
    public static func write(_ data: Data, toPath path: String) throws(PulseError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .runtime("cannot write \(path): \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, mode)
        var written = 0
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            while written < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += n
            }
        }
        close(fd)
        if failure == 0 && rename(temporary, path) == 0 { return }
        let reason = String(cString: strerror(failure != 0 ? failure : errno))
        unlink(temporary)
        throw .runtime("cannot write \(path): \(reason)")
    }

    /// The permission bits of a file that others can read or write, or `nil` when it is
    /// absent or its owner's only.
    public static func looseMode(atPath path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let bits = Int(info.st_mode) & 0o777
        return bits & 0o077 != 0 ? bits : nil
    }
}

/// `write(2)`, out of reach of `PrivateFile.write`'s name.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
