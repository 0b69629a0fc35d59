"""Evidence clerks can defend: signed manifests in hash chains, WARC, verification, export."""
