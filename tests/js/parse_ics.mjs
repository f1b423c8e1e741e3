// Parse iCalendar text (stdin) with Mozilla's ical.js, the parser of Thunderbird's calendar,
// and print what a calendar client sees as one JSON object on stdout. Used by tests/icaljs.py.
//
// Output: {"calendar": {name: value, ...}, "timezones": [tzid, ...], "events": [{...}, ...]}
// (fields of an event: see eventJson below). Times in UTC are computed by ical.js from the
// TZID parameter and the calendar's own VTIMEZONE; a time ical.js cannot place in UTC (a
// floating time, a TZID with no VTIMEZONE, an all-day DATE) gives null rather than a guess.
//
// Any parse error, undecodable UTF-8 or calendar structure ical.js rejects: message on stderr,
// exit status 1.

import ICAL from "ical.js";

const UTC = ICAL.Timezone.utcTimezone;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  // fatal: bytes that are not UTF-8 (e.g. a line folded inside a multi-byte character) are an
  // error, not silently replaced.
  return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
}

// The value of a property as a string (several values, e.g. CATEGORIES, joined by commas).
function valueString(prop) {
  return prop
    .getValues()
    .map((value) => String(value))
    .join(",");
}

function text(component, name) {
  const value = component.getFirstPropertyValue(name);
  return value === null ? null : String(value);
}

// True when ical.js knows where the time sits on the UTC time line.
function isAnchored(time) {
  return !time.isDate && time.zone !== null && time.zone !== ICAL.Timezone.localTimezone;
}

// "2027-01-14T17:30:00Z", or null for a floating/unresolved time or an all-day date.
function utcString(time) {
  if (!time || !isAnchored(time)) {
    return null;
  }
  return time.convertToZone(UTC).toString();
}

// The wall time as written, without offset: "2027-01-14T18:30:00" (or "2027-01-14").
function localString(time) {
  return time ? time.toString().replace(/Z$/, "") : null;
}

function utcProperty(component, name) {
  return utcString(component.getFirstPropertyValue(name));
}

function tzid(component, name) {
  const prop = component.getFirstProperty(name);
  return prop ? (prop.getParameter("tzid") ?? null) : null;
}

function eventJson(vevent) {
  const event = new ICAL.Event(vevent);
  const organizer = vevent.getFirstProperty("organizer");
  const sequence = vevent.getFirstPropertyValue("sequence");
  const start = event.startDate;
  const end = start ? event.endDate : null; // from DTEND, else DTSTART + DURATION
  return {
    uid: text(vevent, "uid"),
    summary: text(vevent, "summary"),
    description: text(vevent, "description"),
    location: text(vevent, "location"),
    url: text(vevent, "url"),
    status: text(vevent, "status"),
    sequence: sequence === null ? null : Number(sequence),
    categories: vevent
      .getAllProperties("categories")
      .flatMap((prop) => prop.getValues().map((value) => String(value))),
    organizer: organizer ? String(organizer.getFirstValue()) : null,
    organizer_cn: organizer ? (organizer.getParameter("cn") ?? null) : null,
    dtstamp: utcProperty(vevent, "dtstamp"),
    created: utcProperty(vevent, "created"),
    last_modified: utcProperty(vevent, "last-modified"),
    dtstart_tzid: tzid(vevent, "dtstart"),
    dtend_tzid: tzid(vevent, "dtend"),
    start_utc: utcString(start),
    end_utc: utcString(end),
    start_local: localString(start),
    end_local: localString(end),
  };
}

function calendarJson(source) {
  const jcal = ICAL.parse(source);
  // One root component gives one jCal array; several give an array of them.
  if (!Array.isArray(jcal) || jcal.length === 0) {
    throw new Error("no iCalendar component in the input");
  }
  if (Array.isArray(jcal[0])) {
    throw new Error(`${jcal.length} root components; expected one VCALENDAR`);
  }
  const calendar = new ICAL.Component(jcal);
  if (calendar.name !== "vcalendar") {
    throw new Error(`root component is ${calendar.name.toUpperCase()}, not VCALENDAR`);
  }

  const timezones = [];
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    const zone = new ICAL.Timezone(vtimezone);
    if (!zone.tzid) {
      throw new Error("VTIMEZONE without TZID");
    }
    ICAL.TimezoneService.register(zone);
    timezones.push(zone.tzid);
  }

  const properties = {};
  for (const prop of calendar.getAllProperties()) {
    if (!(prop.name in properties)) {
      properties[prop.name] = valueString(prop); // names are lowercased by ical.js
    }
  }

  return {
    calendar: properties,
    timezones,
    events: calendar.getAllSubcomponents("vevent").map(eventJson),
  };
}

try {
  const result = calendarJson(await readStdin());
  process.stdout.write(JSON.stringify(result) + "\n");
} catch (error) {
  process.stderr.write(`ical.js: ${error && error.stack ? error.stack : error}\n`);
  process.exitCode = 1;
}
