//! Which OpenStreetMap ways an ambulance may drive, in which directions, and how fast.
//!
//! This is the whole routing policy of the importer in one place: road classes, access
//! rules, one-way rules and speeds. It reads tags only and knows nothing of geometry.

use serde::Serialize;

/// Road classes an ambulance may use, from the OSM `highway` tag (`*_link` maps to its parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum RoadClass {
    Motorway = 0,
    Trunk = 1,
    Primary = 2,
    Secondary = 3,
    Tertiary = 4,
    Unclassified = 5,
    Residential = 6,
    LivingStreet = 7,
    Service = 8,
    Track = 9,
}

impl RoadClass {
    /// All classes, in order of importance.
    pub const ALL: [RoadClass; 10] = [
        RoadClass::Motorway,
        RoadClass::Trunk,
        RoadClass::Primary,
        RoadClass::Secondary,
        RoadClass::Tertiary,
        RoadClass::Unclassified,
        RoadClass::Residential,
        RoadClass::LivingStreet,
        RoadClass::Service,
        RoadClass::Track,
    ];

    /// The OSM `highway` value of the class.
    pub fn as_str(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::Trunk => "trunk",
            RoadClass::Primary => "primary",
            RoadClass::Secondary => "secondary",
            RoadClass::Tertiary => "tertiary",
            RoadClass::Unclassified => "unclassified",
            RoadClass::Residential => "residential",
            RoadClass::LivingStreet => "living_street",
            RoadClass::Service => "service",
            RoadClass::Track => "track",
        }
    }

    /// Decodes the byte stored in the graph artifact.
    pub fn from_u8(v: u8) -> Option<RoadClass> {
        RoadClass::ALL.get(v as usize).copied()
    }

    /// Default speed of an ambulance with lights and siren in Indonesian mixed traffic
    /// (motorbikes, angkot, market traffic), where no `maxspeed` is tagged.
    ///
    /// | class | km/h | why |
    /// |---|---|---|
    /// | motorway | 80 | toll road; Indonesian toll limit is 100, trucks slow the left lane |
    /// | trunk | 60 | national road, heavy trucks |
    /// | primary | 50 | provincial/regency arterial through towns and markets |
    /// | secondary | 45 | |
    /// | tertiary | 40 | |
    /// | unclassified | 30 | narrow village roads |
    /// | residential | 25 | gang and housing streets |
    /// | living_street | 10 | shared space |
    /// | service | 15 | hospital and puskesmas access roads, parking |
    /// | track | 10 | farm tracks, only with `--tracks` |
    pub fn default_speed_kmh(self) -> f64 {
        match self {
            RoadClass::Motorway => 80.0,
            RoadClass::Trunk => 60.0,
            RoadClass::Primary => 50.0,
            RoadClass::Secondary => 45.0,
            RoadClass::Tertiary => 40.0,
            RoadClass::Unclassified => 30.0,
            RoadClass::Residential => 25.0,
            RoadClass::LivingStreet => 10.0,
            RoadClass::Service => 15.0,
            RoadClass::Track => 10.0,
        }
    }
}

/// What the importer does with one way, decided from its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct WayPolicy {
    pub class: RoadClass,
    /// The way may be driven in its node order.
    pub forward: bool,
    /// The way may be driven against its node order.
    pub backward: bool,
    pub speed_kmh: f64,
}

/// Import options that change the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyOptions {
    /// Keep `highway=track` (unpaved farm tracks); off by default.
    pub tracks: bool,
}

/// Decides whether and how a way is routable. `tag` looks a key up in the way's tags.
///
/// Returns `None` for ways an ambulance may not use: not a road class above, `area=yes`,
/// `access=no|private` (unless `emergency=yes|designated`), `oneway=reversible`
/// (direction depends on the time of day, so treated as closed), `highway=track`
/// without [`PolicyOptions::tracks`].
pub fn way_policy<'a>(
    tag: impl Fn(&str) -> Option<&'a str>,
    opts: PolicyOptions,
) -> Option<WayPolicy> {
    let highway = tag("highway")?;
    let (class, is_link) = match highway {
        "motorway" => (RoadClass::Motorway, false),
        "motorway_link" => (RoadClass::Motorway, true),
        "trunk" => (RoadClass::Trunk, false),
        "trunk_link" => (RoadClass::Trunk, true),
        "primary" => (RoadClass::Primary, false),
        "primary_link" => (RoadClass::Primary, true),
        "secondary" => (RoadClass::Secondary, false),
        "secondary_link" => (RoadClass::Secondary, true),
        "tertiary" => (RoadClass::Tertiary, false),
        "tertiary_link" => (RoadClass::Tertiary, true),
        "unclassified" => (RoadClass::Unclassified, false),
        "residential" => (RoadClass::Residential, false),
        "living_street" => (RoadClass::LivingStreet, false),
        "service" => (RoadClass::Service, false),
        "track" if opts.tracks => (RoadClass::Track, false),
        _ => return None,
    };
    if tag("area") == Some("yes") {
        return None;
    }
    let emergency_ok = matches!(tag("emergency"), Some("yes" | "designated"));
    let closed = |v: Option<&str>| matches!(v, Some("no" | "private"));
    if !emergency_ok
        && (closed(tag("access")) || closed(tag("motor_vehicle")) || closed(tag("motorcar")))
    {
        return None;
    }
    let implied_oneway = class == RoadClass::Motorway && !is_link
        || tag("junction").is_some_and(|j| j == "roundabout" || j == "circular");
    let (forward, backward) = match tag("oneway") {
        Some("yes" | "1" | "true") => (true, false),
        Some("-1" | "reverse") => (false, true),
        Some("reversible" | "alternating") => return None,
        Some("no" | "0" | "false") => (true, true),
        _ if implied_oneway => (true, false),
        _ => (true, true),
    };
    let speed_kmh = tag("maxspeed")
        .and_then(parse_maxspeed)
        .unwrap_or_else(|| class.default_speed_kmh());
    Some(WayPolicy {
        class,
        forward,
        backward,
        speed_kmh,
    })
}

/// Parses an OSM `maxspeed` value into km/h: plain numbers (`60`), numbers with a unit
/// (`40 mph`, `60 km/h`, `30 knots`), and implicit limits by country code (`ID:urban`).
///
/// Indonesian implicit limits follow PP 79/2013: settlements 30, urban roads 50, rural
/// roads 80, motorways 100 km/h. Values that give no number (`none`, `signals`, `walk`,
/// unknown codes) return `None` so the class default applies.
pub fn parse_maxspeed(v: &str) -> Option<f64> {
    let v = v.trim();
    if let Some((country, zone)) = v.split_once(':') {
        let kmh = match (country.to_ascii_uppercase().as_str(), zone) {
            ("ID", "urban") => 50.0,
            ("ID", "rural") => 80.0,
            ("ID", "motorway") => 100.0,
            ("ID", "residential" | "living_street" | "settlement") => 30.0,
            // Other countries' implicit limits: the common generic values.
            (_, "urban") => 50.0,
            (_, "rural") => 80.0,
            (_, "motorway") => 100.0,
            (_, "living_street") => 20.0,
            _ => return None,
        };
        return Some(kmh);
    }
    // A list such as "60;40" (per lane): take the lowest, safest for an ETA.
    if v.contains(';') {
        return v
            .split(';')
            .filter_map(parse_maxspeed)
            .min_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    }
    let digits_end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let n: f64 = v[..digits_end].parse().ok()?;
    let unit = v[digits_end..].trim();
    let kmh = match unit {
        "" | "km/h" | "kmh" | "kph" => n,
        "mph" => n * 1.609_344,
        "knots" => n * 1.852,
        _ => return None,
    };
    (kmh > 0.0 && kmh <= 200.0).then_some(kmh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(tags: &[(&'static str, &'static str)]) -> Option<WayPolicy> {
        way_policy(
            |k| tags.iter().find(|(key, _)| *key == k).map(|(_, v)| *v),
            PolicyOptions::default(),
        )
    }

    #[test]
    fn maxspeed_forms() {
        assert_eq!(parse_maxspeed("60"), Some(60.0));
        assert_eq!(parse_maxspeed("60 km/h"), Some(60.0));
        assert!((parse_maxspeed("40 mph").unwrap() - 64.37376).abs() < 1e-6);
        assert_eq!(parse_maxspeed("ID:urban"), Some(50.0));
        assert_eq!(parse_maxspeed("ID:rural"), Some(80.0));
        assert_eq!(parse_maxspeed("60;40"), Some(40.0));
        assert_eq!(parse_maxspeed("none"), None);
        assert_eq!(parse_maxspeed("signals"), None);
        assert_eq!(parse_maxspeed("0"), None);
        assert_eq!(parse_maxspeed("XX:moon"), None);
    }

    #[test]
    fn classes_and_access() {
        assert_eq!(
            policy(&[("highway", "primary")]).unwrap().class,
            RoadClass::Primary
        );
        assert_eq!(
            policy(&[("highway", "primary_link")]).unwrap().class,
            RoadClass::Primary
        );
        assert!(policy(&[("highway", "footway")]).is_none());
        assert!(policy(&[("highway", "track")]).is_none());
        assert!(
            way_policy(
                |k| (k == "highway").then_some("track"),
                PolicyOptions { tracks: true }
            )
            .is_some()
        );
        assert!(policy(&[("highway", "residential"), ("access", "private")]).is_none());
        assert!(policy(&[("highway", "residential"), ("access", "no")]).is_none());
        assert!(
            policy(&[
                ("highway", "residential"),
                ("access", "no"),
                ("emergency", "yes")
            ])
            .is_some()
        );
        assert!(
            policy(&[
                ("highway", "service"),
                ("access", "private"),
                ("emergency", "designated")
            ])
            .is_some()
        );
        assert!(policy(&[("highway", "service"), ("area", "yes")]).is_none());
        assert!(policy(&[("waterway", "river")]).is_none());
    }

    #[test]
    fn oneway_rules() {
        let dirs = |t: &[(&'static str, &'static str)]| policy(t).map(|p| (p.forward, p.backward));
        assert_eq!(dirs(&[("highway", "primary")]), Some((true, true)));
        for v in ["yes", "1", "true"] {
            let tags = [("highway", "primary"), ("oneway", v)];
            assert_eq!(dirs(&tags), Some((true, false)));
        }
        assert_eq!(
            dirs(&[("highway", "primary"), ("oneway", "-1")]),
            Some((false, true))
        );
        assert_eq!(
            dirs(&[("highway", "primary"), ("oneway", "reversible")]),
            None
        );
        assert_eq!(
            dirs(&[("highway", "primary"), ("junction", "roundabout")]),
            Some((true, false))
        );
        assert_eq!(dirs(&[("highway", "motorway")]), Some((true, false)));
        assert_eq!(dirs(&[("highway", "motorway_link")]), Some((true, true)));
        assert_eq!(
            dirs(&[("highway", "motorway"), ("oneway", "no")]),
            Some((true, true))
        );
    }

    #[test]
    fn speed_from_maxspeed_or_class() {
        assert_eq!(policy(&[("highway", "primary")]).unwrap().speed_kmh, 50.0);
        assert_eq!(
            policy(&[("highway", "primary"), ("maxspeed", "80")])
                .unwrap()
                .speed_kmh,
            80.0
        );
        assert_eq!(
            policy(&[("highway", "residential"), ("maxspeed", "none")])
                .unwrap()
                .speed_kmh,
            25.0
        );
    }
}
