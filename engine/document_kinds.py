"""The kinds of documents a case holds, and who may add and see them (a leaf module: cases,
intake, documents and notifications all read it)."""

from .text import N_

# Documents: the operator's `dokumen_kurang` enum (bpmn/forms/verifikasi.json) plus the
# supervisor's home-visit photo. Labels are what the applicant reads.
DOCUMENT_KINDS = {
    "ktp": N_("KTP"),
    "kk": N_("Kartu Keluarga (KK)"),
    "foto": N_("Foto pemohon / kondisi"),
    "surat_keterangan_desa": N_("Surat keterangan kepala desa/lurah"),
    "surat_keterangan_dokter": N_("Surat keterangan dokter"),
    "surat_pengantar_dinsos": N_("Surat pengantar Dinas Sosial daerah asal"),
    "lainnya": N_("Dokumen lainnya"),
    "foto_kunjungan": N_("Foto kunjungan rumah"),
}
# Who may upload a kind: a kind listed here only by these roles (the home-visit photo, with its
# GPS position, by the supervisor who made the visit); every other kind by the applicant and any
# staff role that writes.
DOCUMENT_KIND_OWNERS: dict[str, frozenset[str]] = {"foto_kunjungan": frozenset({"supervisor"})}
# Kinds only staff see: never listed or served on the applicant's tracking page or API.
STAFF_ONLY_DOCUMENT_KINDS = frozenset({"foto_kunjungan"})
APPLICANT_DOCUMENT_KINDS = {k: v for k, v in DOCUMENT_KINDS.items() if k not in STAFF_ONLY_DOCUMENT_KINDS}
