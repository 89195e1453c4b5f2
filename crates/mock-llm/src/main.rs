//! `rowbench-mock-llm`: the mock LLM server as a process, for benchmarks run from outside Rust.
//!
//! Prints `listening on http://HOST:PORT` as its first line of stdout (scripts wait for it) and
//! serves until Ctrl-C.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use rowbench_mock_llm::{MockConfig, MockServer};

const USAGE: &str = "\
usage: rowbench-mock-llm [options]

  --host ADDR               address to bind (default 127.0.0.1)
  --port N                  port to bind, 0 for any free one (default 0)
  --latency-ms N            delay before each answer
  --jitter-ms N             uniform spread around the latency
  --seed N                  seed of the fault and jitter draws
  --hang-ms N               how long a hang lasts before its 500 (default 30000)
  --retry-after-ms N        retry-after sent with 429 (default 50)
  --no-key-check            accept Anthropic requests without x-api-key
  --api-key KEY             the only key accepted (others get 401)
  --models A,B              the only model ids that exist (others get 404)
  fault rates, each a probability from 0 to 1:
  --server-error P  --rate-limited P  --hang P  --invalid-json P
  --schema-violation P  --fenced-json P  --unauthorized P

Also: GET /stats, DELETE /stats, GET /config, POST /config (JSON).";

/// Checked before a value is taken, so that a typo is reported as unknown rather than as missing
/// its value.
const VALUE_FLAGS: [&str; 16] = [
    "--host",
    "--port",
    "--latency-ms",
    "--jitter-ms",
    "--seed",
    "--hang-ms",
    "--retry-after-ms",
    "--server-error",
    "--rate-limited",
    "--hang",
    "--invalid-json",
    "--schema-violation",
    "--fenced-json",
    "--unauthorized",
    "--api-key",
    "--models",
];

#[derive(Debug, thiserror::Error, PartialEq)]
enum ArgsError {
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{flag} expects {expected}, not {value:?}")]
    BadValue {
        flag: String,
        value: String,
        expected: &'static str,
    },
    #[error("unknown option {0}")]
    Unknown(String),
}

#[derive(Debug, PartialEq)]
enum Command {
    Serve {
        addr: SocketAddr,
        config: MockConfig,
    },
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, ArgsError> {
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut port = 0_u16;
    let mut config = MockConfig::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--no-key-check" => {
                config.require_anthropic_key = false;
                continue;
            }
            known if VALUE_FLAGS.contains(&known) => {}
            _ => return Err(ArgsError::Unknown(flag)),
        }
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .ok_or_else(|| ArgsError::MissingValue(flag.clone()))?,
        };
        let faults = &mut config.faults;
        match flag.as_str() {
            "--host" => host = parse(&flag, &value, "an IP address")?,
            "--port" => port = parse(&flag, &value, "a port number")?,
            "--latency-ms" => config.latency_ms = parse(&flag, &value, "milliseconds")?,
            "--jitter-ms" => config.jitter_ms = parse(&flag, &value, "milliseconds")?,
            "--seed" => config.seed = parse(&flag, &value, "a whole number")?,
            "--hang-ms" => config.hang_ms = parse(&flag, &value, "milliseconds")?,
            "--retry-after-ms" => config.retry_after_ms = parse(&flag, &value, "milliseconds")?,
            "--server-error" => faults.server_error = rate(&flag, &value)?,
            "--rate-limited" => faults.rate_limited = rate(&flag, &value)?,
            "--hang" => faults.hang = rate(&flag, &value)?,
            "--invalid-json" => faults.invalid_json = rate(&flag, &value)?,
            "--schema-violation" => faults.schema_violation = rate(&flag, &value)?,
            "--fenced-json" => faults.fenced_json = rate(&flag, &value)?,
            "--unauthorized" => faults.unauthorized = rate(&flag, &value)?,
            "--api-key" => config.api_key = Some(value),
            "--models" => {
                config.models = value
                    .split(',')
                    .map(str::trim)
                    .filter(|model| !model.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            _ => unreachable!("{flag} is in VALUE_FLAGS but has no setter"),
        }
    }
    Ok(Command::Serve {
        addr: SocketAddr::new(host, port),
        config,
    })
}

fn parse<T: std::str::FromStr>(
    flag: &str,
    value: &str,
    expected: &'static str,
) -> Result<T, ArgsError> {
    value.parse().map_err(|_| ArgsError::BadValue {
        flag: flag.to_owned(),
        value: value.to_owned(),
        expected,
    })
}

fn rate(flag: &str, value: &str) -> Result<f64, ArgsError> {
    const EXPECTED: &str = "a probability from 0 to 1";
    let rate: f64 = parse(flag, value, EXPECTED)?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ArgsError::BadValue {
            flag: flag.to_owned(),
            value: value.to_owned(),
            expected: EXPECTED,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, config) = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Serve { addr, config }) => (addr, config),
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("rowbench-mock-llm: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match MockServer::bind(addr, config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("rowbench-mock-llm: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    // Scripts read this line through a pipe, where stdout is block-buffered.
    if std::io::stdout().flush().is_err() {
        return ExitCode::FAILURE;
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("rowbench-mock-llm: cannot wait for Ctrl-C: {error}");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use rowbench_mock_llm::FaultRates;

    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_documented_command_line_parses() {
        let command = parse_args(args(
            "--port 0 --latency-ms 20 --jitter-ms 5 --server-error 0.2 --rate-limited 0.1 \
             --hang 0.05 --invalid-json 0.1 --seed 7",
        ))
        .expect("the example from the docs parses");
        let expected = MockConfig {
            latency_ms: 20,
            jitter_ms: 5,
            seed: 7,
            faults: FaultRates {
                server_error: 0.2,
                rate_limited: 0.1,
                hang: 0.05,
                invalid_json: 0.1,
                ..FaultRates::default()
            },
            ..MockConfig::default()
        };
        assert_eq!(
            command,
            Command::Serve {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                config: expected
            }
        );
    }

    #[test]
    fn values_may_follow_an_equals_sign() {
        let Ok(Command::Serve { addr, config }) =
            parse_args(args("--port=8080 --fenced-json=1 --no-key-check"))
        else {
            panic!("expected a serve command");
        };
        assert_eq!(addr.port(), 8080);
        assert!((config.faults.fenced_json - 1.0).abs() < f64::EPSILON);
        assert!(!config.require_anthropic_key);
    }

    #[test]
    fn a_required_key_and_the_known_models_come_from_the_command_line() {
        let Ok(Command::Serve { config, .. }) =
            parse_args(args("--api-key sk-right --models mock-model,,other"))
        else {
            panic!("expected a serve command");
        };
        assert_eq!(config.api_key.as_deref(), Some("sk-right"));
        assert_eq!(config.models, ["mock-model", "other"]);
    }

    #[test]
    fn every_flag_that_takes_a_value_is_handled() {
        for flag in VALUE_FLAGS {
            let parsed = parse_args([flag.to_owned(), "1".to_owned()]);
            assert!(
                !matches!(parsed, Err(ArgsError::Unknown(_))),
                "{flag}: {parsed:?}"
            );
        }
    }

    #[test]
    fn mistakes_are_reported_by_flag() {
        assert_eq!(
            parse_args(args("--latency-ms")),
            Err(ArgsError::MissingValue("--latency-ms".to_owned()))
        );
        assert_eq!(
            parse_args(args("--bogus")),
            Err(ArgsError::Unknown("--bogus".to_owned()))
        );
        assert_eq!(
            parse_args(args("--latency 5")),
            Err(ArgsError::Unknown("--latency".to_owned()))
        );
        assert!(matches!(
            parse_args(args("--hang 1.5")),
            Err(ArgsError::BadValue { .. })
        ));
        assert!(matches!(
            parse_args(args("--seed seven")),
            Err(ArgsError::BadValue { .. })
        ));
    }
}
