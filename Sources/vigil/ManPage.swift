import VigilAgent

/// vigil(1), written from the commands' own usage texts so the manual cannot
/// drift from `vigil help`: `vigil help --man` prints it, the package installs it.
enum ManPage {
    static func render(commands: [any Command.Type]) -> String {
        var page = """
            .TH VIGIL 1 "" "vigil \(vigilVersion)" "User Commands"
            .SH NAME
            vigil \\- edge agent for Modbus gas, level and smoke sensors
            .SH SYNOPSIS
            .B vigil
            .I COMMAND
            .RI [ OPTIONS ]
            .br
            .B vigil help
            .RI [ COMMAND ]
            .SH DESCRIPTION
            Vigil polls Modbus RTU and Modbus TCP gas detectors, water\\-level transmitters and smoke
            alarms, and dry contacts on GPIO; raises alarms at the edge and drives relays; keeps every
            reading in a crash\\-safe journal while the network is down; and forwards it upstream over
            HTTP or MQTT. One binary is the daemon
            .RB ( "vigil run" ,
            started by systemd as the unit
            .BR vigil.service )
            and the installer's and technician's tool (every other command).
            .PP
            Commands that ask the running agent (status, values, alarms, diag and others) talk to it
            over its control socket; members of the group
            .B vigil
            may use them.

            """
        page += ".SH COMMANDS\n"
        for command in commands {
            page += ".SS \"vigil \(command.name)\"\n\(escape(command.summary))\n.PP\n.nf\n.RS 4\n"
            for line in command.usage.split(separator: "\n", omittingEmptySubsequences: false) {
                page += line.isEmpty ? ".sp\n" : escape(String(line)) + "\n"
            }
            page += ".RE\n.fi\n"
        }
        page += """
            .SH FILES
            .TP
            .I /etc/vigil/vigil.json5
            The configuration (JSON5). Check it with
            .BR "vigil config check" ,
            and as the service will see it with
            .BR "vigil config check \\-\\-as\\-service" .
            .TP
            .I /etc/vigil/profiles/ , /etc/vigil/boards/
            The installer's own sensor profiles and board files, found before the shipped ones.
            .TP
            .I /usr/share/vigil/
            Shipped profiles, board files and example configurations.
            .TP
            .I /var/lib/vigil/
            The journal, its cursor and dead letters. Kept when the package is removed; deleted on purge.
            .TP
            .I /run/vigil/control.sock
            The control socket.
            .SH EXIT STATUS
            0 on success; 1 when the command failed; 2 for a bad command line or configuration;
            3 when a device or the communication with it failed.
            .SH SEE ALSO
            .BR systemctl (1),
            .BR journalctl (1),
            .BR systemd.service (5)

            """
        return page
    }

    /// roff: a backslash is \e, a minus is \-, a line must not start with a control character,
    /// and characters outside ASCII are named (lintian reads the page with groff's defaults).
    static func escape(_ line: String) -> String {
        var out = ""
        for c in line {
            switch c {
            case "\\": out += "\\e"
            case "-": out += "\\-"
            case "—": out += "\\(em"
            case "–": out += "\\(en"
            case "…": out += "..."
            case "→": out += "\\(->"
            case "≤": out += "\\(<="
            case "≥": out += "\\(>="
            case "×": out += "\\(mu"
            case "°": out += "\\(de"
            case "µ": out += "\\(mc"
            case "‘", "’": out += "'"
            case "“", "”": out += "\""
            default: out.append(c)
            }
        }
        if out.hasPrefix(".") || out.hasPrefix("'") { out = "\\&" + out }
        return out
    }
}
