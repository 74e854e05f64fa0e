/// Work on targets, one piece at a time per target, first come first served: a piece waits for
/// every target it names (a group's action names each of its targets) and holds them while it
/// runs. Pure: the loop adds work and reports it finished; what it gets back is what to start.
public struct WorkQueue<Work>: Sendable where Work: Sendable {
    private var busy: Set<String> = []
    private var waiting: [(targets: [String], work: Work, key: String?)] = []
    private var closed = false

    public init() {}

    /// Whether any work is running.
    public var isIdle: Bool { busy.isEmpty }

    /// Queues `work` on `targets`; returns what may start now (nothing once closed). Work with a
    /// `key` is dropped while work of the same key still waits (one read of a record is enough).
    public mutating func add(_ targets: [String], key: String? = nil, _ work: Work) -> [(targets: [String], work: Work)] {
        guard !closed, key == nil || !waiting.contains(where: { $0.key == key }) else { return [] }
        waiting.append((targets, work, key))
        return admit()
    }

    /// `targets`' work ended; returns what may start now.
    public mutating func finished(_ targets: [String]) -> [(targets: [String], work: Work)] {
        busy.subtract(targets)
        return admit()
    }

    /// Takes no more work and drops what waits; what runs ends on its own.
    public mutating func close() {
        closed = true
        waiting = []
    }

    /// Starts, in order, every waiting piece whose targets are free and not wanted by an earlier waiting one.
    private mutating func admit() -> [(targets: [String], work: Work)] {
        var held = busy
        var started: [(targets: [String], work: Work)] = []
        var still: [(targets: [String], work: Work, key: String?)] = []
        for item in waiting {
            defer { held.formUnion(item.targets) }
            guard held.isDisjoint(with: item.targets) else {
                still.append(item)
                continue
            }
            busy.formUnion(item.targets)
            started.append((item.targets, item.work))
        }
        waiting = still
        return started
    }
}
