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
    /// What GitLab's bridge failure reasons mean for the agent's token.
    static let meaning = [
        "insufficient_bridge_permissions":
            "the token's user may not create the deploy pipeline in the downstream project: it needs Developer there and the "
            + "right to merge into its branch",
        "downstream_bridge_project_not_found": "the token's user cannot see the downstream deployments project: make it a member",
        "downstream_pipeline_creation_failed": "GitLab could not create the downstream pipeline",
    ]

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
        if isFinished, status != "success" {
            let reason = failureReason.map { ": \($0)\(Self.meaning[$0].map { " (\($0))" } ?? "")" } ?? ""
            return .failed("trigger job #\(id) (\(name)) ended \(status) with no downstream pipeline\(reason)")
        }
        return .running("trigger job #\(id) is \(status) and has no downstream pipeline yet")
    }
}
