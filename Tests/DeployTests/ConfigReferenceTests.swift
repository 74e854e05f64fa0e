import AgentConfig
import Foundation
import Testing
import YAMLConfig

/// `docs/configuration.md` is the schema the loaders read: every declared field is in it with its
/// default, nothing else is, and a key no section declares is refused.
@Suite struct ConfigReferenceTests {
    static let page = DeployTests.root + "/docs/configuration.md"

    /// Section heading → the first cells of its table rows, as the committed page has them.
    static func rows() throws -> [String: [String]] {
        var rows: [String: [String]] = [:]
        var section = ""
        for line in try String(contentsOfFile: page, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("## ") { section = String(line.dropFirst(3)) }
            if line.hasPrefix("| `") { rows[section, default: []].append(String(line)) }
        }
        return rows
    }

    @Test func theCommittedReferenceIsTheOneTheSchemaPrints() throws {
        let committed = try String(contentsOfFile: Self.page, encoding: .utf8)
        #expect(
            committed == ConfigReference.markdown,
            "docs/configuration.md is stale: run `swift run failover-agent config-reference > docs/configuration.md`")
    }

    @Test func everyDeclaredFieldHasARowWithItsDefaultAndEveryRowAField() throws {
        let rows = try Self.rows()
        let sections = ConfigReference.sections
        #expect(sections.count > 20)
        #expect(Set(rows.keys).isSubset(of: Set(sections.map(\.path))), "a table under a heading no section declares")
        for section in sections {
            let table = rows[section.path] ?? []
            #expect(table.count == section.fields.count, "\(section.path): \(table.count) rows for \(section.fields.count) fields")
            for field in section.fields {
                let row = table.first { $0.hasPrefix("| `\(field.keys[0])`") }
                #expect(row == ConfigReference.row(field), "\(section.path).\(field.name): no row with its type and default")
                #expect(!field.defaultText.isEmpty && !field.meaning.isEmpty, "\(section.path).\(field.name) needs a default and a meaning")
            }
        }
    }

    @Test func aKeyNoSectionDeclaresIsRefusedNamingIt() throws {
        for section in ConfigReference.sections where section.entries == nil {
            let yaml = try YAMLFields.parse("\(section.fields.first?.keys[0] ?? "x"): 1\nnot_a_field: 2\n", file: "c.yml")
            let error = #expect(throws: ConfigError.self) { try yaml.conform(to: section) }
            #expect(error?.field == "not_a_field", "\(section.path)")
            #expect(error?.line == 2, "\(section.path)")
            #expect(error?.problem.hasPrefix("unknown field") == true, "\(section.path)")
        }
    }

    @Test func aLoaderCannotReadAFieldItsSectionDoesNotDeclare() throws {
        let section = ConfigSection("t", "A test section.", Field<Bool>.boolean("on", default: false, "a switch"))
        let yaml = try YAMLFields.parse("on: true\n", file: "c.yml").conform(to: section)
        #expect(try yaml.read(.boolean("on", default: false, "a switch")))
        #expect(throws: ConfigError.self) { try yaml.read(Field<Bool>.boolean("off", default: false, "undeclared")) }
    }

    @Test func aMissingRequiredFieldIsNamed() throws {
        let section = ConfigSection("t", "A test section.", Field<String>.text("name", "a name"))
        let error = #expect(throws: ConfigError.self) { try YAMLFields.parse("{}\n", file: "c.yml").conform(to: section) }
        #expect(error?.problem == "missing required field name")
    }
}

/// The health page's table of policy defaults and their reasons says what the schema says.
@Suite struct HealthPolicyTableTests {
    @Test func everyPolicyFieldIsExplainedWithTheSchemasDefault() throws {
        let page = try String(contentsOfFile: DeployTests.root + "/docs/health.md", encoding: .utf8)
        var defaults: [String: String] = [:]
        for line in page.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
            if cells.count >= 2 { defaults[cells[0]] = cells[1] }
        }
        let policy = try #require(ConfigReference.sections.first { $0.path == "policy" })
        #expect(policy.fields.count > 25)
        for field in policy.fields {
            #expect(defaults[field.name] == field.defaultText, "docs/health.md: \(field.name) should say \(field.defaultText)")
        }
        #expect(Set(defaults.keys) == Set(policy.fields.map(\.name)), "docs/health.md explains a field the policy does not have")
    }
}
