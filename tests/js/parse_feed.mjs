// Parse an iCalendar feed with ical.js (Thunderbird's parser) and print its
// events as JSON: UID, SEQUENCE, STATUS, texts and the UTC instants.
//
// ical.js has no time-zone database of its own: the only way it can turn
// "DTSTART;TZID=America/New_York:20260309T170000" into an instant is the
// feed's VTIMEZONE, which is registered with ICAL.TimezoneService below.
// With --drop-vtimezone the VTIMEZONEs are removed first (a control: the
// times then read as floating and the instants come out wrong).
//
// Usage: node parse_feed.mjs FILE [--drop-vtimezone]
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

const [file, ...flags] = process.argv.slice(2);
const dropZones = flags.includes('--drop-vtimezone');

const calendar = new ICAL.Component(ICAL.parse(readFileSync(file, 'utf8')));
const registered = [];
for (const vtimezone of calendar.getAllSubcomponents('vtimezone')) {
  if (dropZones) {
    calendar.removeSubcomponent(vtimezone);
    continue;
  }
  const zone = new ICAL.Timezone(vtimezone);
  ICAL.TimezoneService.register(zone);
  registered.push(zone.tzid);
}

const instant = (time) => new Date(time.toUnixTime() * 1000).toISOString();

const events = calendar.getAllSubcomponents('vevent').map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue('status'),
    summary: event.summary,
    location: event.location,
    description: event.description,
    tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    start: instant(event.startDate),
    end: instant(event.endDate),
  };
});

process.stdout.write(JSON.stringify({
  calname: calendar.getFirstPropertyValue('x-wr-calname'),
  registered,
  events,
}));
