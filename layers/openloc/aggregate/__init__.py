"""Pure station math: observation reports, weights, and the station updater."""
