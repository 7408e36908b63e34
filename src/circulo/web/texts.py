"""What the desktop's pages say, in Spanish and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "app": {"es": "Círculo · Escritorio", "en": "Círculo · Desk"},
    "sign_in": {"es": "Iniciar sesión", "en": "Sign in"},
    "username": {"es": "Nombre de usuario", "en": "User name"},
    "password": {"es": "Contraseña", "en": "Password"},
    "wrong_credentials": {"es": "Nombre de usuario o contraseña incorrectos.",
                          "en": "Wrong user name or password."},
    "missing_fields": {"es": "Escriba su nombre de usuario y su contraseña.",
                       "en": "Enter your user name and password."},
    "form_expired": {"es": "El formulario ha caducado. Vuelva a intentarlo.",
                     "en": "The form has expired. Please try again."},
    "desk": {"es": "Escritorio", "en": "Desk"},
    "signed_in_as": {"es": "Sesión iniciada como", "en": "Signed in as"},
    "name": {"es": "Nombre", "en": "Name"},
    "role": {"es": "Rol", "en": "Role"},
    "agent": {"es": "Agente", "en": "Agent"},
    "no_agent": {"es": "(ninguno)", "en": "(none)"},
    "role.agent": {"es": "Agente", "en": "Agent"},
    "role.supervisor": {"es": "Supervisor", "en": "Supervisor"},
    "role.admin": {"es": "Administrador", "en": "Administrator"},
    "language": {"es": "Idioma", "en": "Language"},
    "change_language": {"es": "Cambiar idioma", "en": "Change language"},
    "sign_out": {"es": "Cerrar sesión", "en": "Sign out"},
    "shell_note": {"es": "Este es el armazón del escritorio: la cola, la llamada en curso y la "
                         "ficha del cliente llegarán aquí en los próximos pasos.",
                   "en": "This is the desk's shell: the queue, the live call and the customer "
                         "card will arrive here in the next steps."},
    "refused": {"es": "Solicitud rechazada: vuelva a cargar la página.",
                "en": "Request refused: reload the page."},
    "skip_to_content": {"es": "Saltar al contenido", "en": "Skip to content"},
    "areas": {"es": "Secciones", "en": "Sections"},
    "bad_language": {"es": "Idioma desconocido.", "en": "Unknown language."},
}
LANGUAGE_NAMES = {"es": "Español", "en": "English"}


CATALOGUES: list[dict[str, dict[str, str]]] = [TEXTS]


def register(catalogue: dict[str, dict[str, str]]) -> None:
    """An area's texts join the pages' (at import); a key two areas both define, or a text
    missing a language, is refused so no page can show the wrong words."""
    known = {key for existing in CATALOGUES for key in existing}
    clash = known & catalogue.keys()
    if clash:
        raise ValueError(f"texts defined twice: {sorted(clash)}")
    for key, entry in catalogue.items():
        if set(entry) != set(LANGUAGE_NAMES):
            raise ValueError(f"text {key!r} needs exactly {sorted(LANGUAGE_NAMES)}")
    CATALOGUES.append(catalogue)
    _cache.clear()


_cache: dict[str, dict[str, str]] = {}


def texts(lang: str) -> dict[str, str]:
    """Every text of the pages in ``lang``, for a template."""
    if lang not in _cache:
        _cache[lang] = {key: entry[lang] for catalogue in CATALOGUES
                        for key, entry in catalogue.items()}
    return _cache[lang]
