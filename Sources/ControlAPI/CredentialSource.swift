import Foundation
import Secrets
import Synchronization

/// Where a request's credential comes from at the moment the request is sent.
public protocol TokenSource: Sendable {
    func token() async throws(ControlError) -> String
}

/// A ``Credential`` as requests need it: an environment variable's value, or a file's, read again
/// whenever the file changes (a rotated service-account token, a Vault Agent sink, a renewed
/// GitLab token), so a rotation needs no restart. The file is checked with `stat`, which follows
/// the symbolic links Kubernetes swaps on a rotation.
public final class CredentialSource: TokenSource {
    public let credential: Credential
    private let value: Mutex<(stamp: FileStamp?, text: String)>

    /// Reads the credential now, so a missing one is named at start.
    public init(_ credential: Credential, environment: [String: String]) throws(ControlError) {
        self.credential = credential
        let stamp = credential.path.flatMap(FileStamp.init(path:))
        value = Mutex((stamp, try credential.resolve(environment)))
    }

    /// The credential as it stands: a file that changed is read again; one that became
    /// unreadable or empty is an error naming it.
    public func current() throws(ControlError) -> String {
        guard let path = credential.path else { return value.withLock { $0.text } }
        let stamp = FileStamp(path: path)
        if let stamp, stamp == value.withLock({ $0.stamp }) { return value.withLock { $0.text } }
        guard stamp != nil else { throw .credential("cannot read token file \(path)") }
        let text = try credential.resolve([:])
        value.withLock { $0 = (stamp, text) }
        return text
    }

    public func token() async throws(ControlError) -> String { try current() }
}

extension Credential {
    /// The file it is read from; nil for an environment variable.
    public var path: String? {
        if case .file(let path) = self { return path }
        return nil
    }
}

/// What tells that a file changed: its inode, size and modification time, through the links.
struct FileStamp: Equatable {
    let inode: UInt64
    let size: Int64
    let seconds: Int
    let nanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
    }
}
