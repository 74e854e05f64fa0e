/// Where a retried deploy job stands. A trigger job is not the deploy: its downstream pipeline
/// is (a trigger without `strategy: depend` succeeds as soon as that pipeline is created), so a
/// trigger job's progress is its downstream pipeline's, and a failed downstream pipeline is a
/// failed deploy at once, whatever the trigger job still says.
public enum DeployProgress: Sendable, Equatable {
    case running(String)
    case succeeded
    case failed(String)
}

extension Job {
    public var progress: DeployProgress {
        guard isBridge else {
            if !isFinished { return .running("job #\(id) is \(status)") }
            return status == "success" ? .succeeded : .failed("job #\(id) (\(name)) ended \(status)")
        }
        if let downstream {
            switch downstream.status {
            case "success": return .succeeded
            case "failed", "canceled", "skipped":
                return .failed("the downstream deploy pipeline \(downstream.label) of trigger job #\(id) ended \(downstream.status)")
            default: return .running("the downstream deploy pipeline \(downstream.label) is \(downstream.status)")
            }
        }
        if isFinished, status != "success" { return .failed("trigger job #\(id) (\(name)) ended \(status) with no downstream pipeline") }
        return .running("trigger job #\(id) is \(status) and has no downstream pipeline yet")
    }
}
