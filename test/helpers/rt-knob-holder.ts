// Child process for the crash test: journals and changes one knob, says so, then waits to be killed.
import { KnobJournal } from "../../realtime/index.js";

const [journalFile, knob, value, owner] = process.argv.slice(2);
if (journalFile === undefined || knob === undefined || value === undefined || owner === undefined) {
  throw new TypeError("usage: knob-holder JOURNAL KNOB VALUE OWNER");
}
new KnobJournal(journalFile).change(knob, value, owner);
process.stdout.write("changed\n");
setInterval(() => {}, 60_000);
