/**
 * The words and phrases intents are recognised by, in normalised form (`normalise.ts`: lower case,
 * no accents, no apostrophes). English first, then the languages customers of European and
 * American numbers write most: Spanish, French, German, Portuguese, Italian, Dutch.
 *
 * Kept apart from the classifier so what counts as "yes" can be read (and argued about) in one place.
 */

export const YES_WORDS: ReadonlySet<string> = new Set([
  // English
  'yes', 'y', 'ye', 'yep', 'yup', 'yeah', 'yea', 'ya', 'yah', 'yeh', 'yas', 'ok', 'okay', 'okey', 'okie', 'oki', 'k', 'kk',
  'sure', 'confirm', 'confirmed', 'confirming', 'correct', 'absolutely', 'definitely', 'certainly', 'affirmative',
  'agreed', 'agree', 'accept', 'accepted', 'approve', 'approved', 'fine', 'alright', 'aight', 'perfect', 'great',
  'cool', 'deal', 'yessir', 'indeed', 'sounds', 'good',
  // Spanish, Portuguese, Italian
  'si', 'claro', 'vale', 'dale', 'confirmo', 'confirmado', 'sim', 'certo', 'beleza', 'va', 'bene', 'certamente',
  // French
  'oui', 'ouais', 'ouai', 'daccord', 'dac', 'parfait', 'confirme',
  // German, Dutch
  'ja', 'jawohl', 'jep', 'jo', 'klar', 'genau', 'gerne', 'prima', 'akkoord', 'prima',
]);

/** Several words that say yes together (matched on word boundaries). */
export const YES_PHRASES: readonly string[] = [
  'sounds good', 'sounds great', 'see you', 'see u', 'see ya', 'cu then', 'works for me', 'that works', 'it works', 'works fine',
  'of course', 'no problem', 'no prob', 'no probs', 'no worries', 'why not', 'go ahead', 'all good', 'will do', 'be there',
  'count me in', 'im in', 'for sure', 'please do', 'looks good', 'all set', 'on my way', 'im coming', 'i am coming',
  'i will come', 'ill come', 'thats fine', 'that is fine', 'thats right', 'that is right', 'yes please',
  'por supuesto', 'de acuerdo', 'esta bien', 'por favor si', 'bien sur', 'pas de probleme', 'ca marche', 'ca me va',
  'na klar', 'in ordnung', 'passt', 'geht klar', 'com certeza', 'tudo bem', 'pode ser', 'va bene',
];

export const NO_WORDS: ReadonlySet<string> = new Set([
  'no', 'n', 'nope', 'nah', 'naw', 'nay', 'nop', 'never', 'negative', 'decline', 'declined', 'reject', 'cannot', 'cant', 'wont',
  'non', 'nein', 'nee', 'nao', 'niet', 'jamais', 'nunca', 'nicht',
]);

export const NO_PHRASES: readonly string[] = [
  'not really', 'no thanks', 'no thank you', 'not interested', 'cant make it', 'cannot make it', 'can not make it',
  'wont make it', 'will not make it', 'not going to make it', 'not gonna make it', 'cant come', 'cannot come',
  'not coming', 'wont be there', 'will not be there', 'not today', 'not now', 'not this time', 'unable to',
  'no gracias', 'no puedo', 'non merci', 'je ne peux pas', 'nein danke', 'kann nicht', 'nao posso', 'nao obrigado',
];

/** Words and phrases that leave the answer open: "not sure", "maybe". */
export const UNSURE: readonly string[] = ['not sure', 'no idea', 'no clue', 'maybe', 'perhaps', 'dunno', 'dont know', 'idk', 'quizas', 'tal vez', 'peut etre', 'vielleicht', 'talvez'];

export const THANKS_WORDS: ReadonlySet<string> = new Set([
  'thanks', 'thank', 'thx', 'thnx', 'thnks', 'thanx', 'tnx', 'ty', 'tyvm', 'cheers', 'gracias', 'merci', 'danke', 'obrigado',
  'obrigada', 'grazie', 'dank', 'bedankt',
]);

/** Words that add politeness or emphasis and nothing else. */
export const COURTESY: ReadonlySet<string> = new Set([
  'please', 'pls', 'plz', 'plez', 'now', 'thanks', 'thank', 'you', 'u', 'thx', 'ty', 'so', 'much', 'very', 'a', 'lot', 'again',
  'already', 'asap', 'immediately', 'right', 'away', 'just', 'mate', 'man', 'sir', 'madam', 'hi', 'hello', 'hey', 'oh', 'well',
  'por', 'favor', 'gracias', 'merci', 'sil', 'vous', 'plait', 'bitte', 'danke', 'obrigado', 'obrigada', 'lol', 'haha',
]);

export const OPT_IN_PHRASES: readonly string[] = [
  'start', 'unstop', 'resume', 'subscribe', 'resubscribe', 're subscribe', 'start again', 'opt in', 'optin', 'opt me in',
  'subscribe me', 'sign me up', 'sign me back up', 'start messages', 'start texts',
];

export const HELP_WORDS: ReadonlySet<string> = new Set(['help', 'info', 'ayuda', 'aide', 'hilfe', 'ajuda', 'aiuto', 'informacion', 'information']);

export const HELP_PHRASES: readonly string[] = [
  'who is this', 'whos this', 'who dis', 'who are you', 'need help', 'i need help',
  'quien es', 'quien eres', 'qui est ce', 'cest qui', 'wer ist da', 'wer sind sie', 'quem e',
];

export const YES_EMOJI: ReadonlySet<string> = new Set(['👍', '✅', '✔', '☑', '👌', '🆗', '🙆', '🤝', '💯']);
export const NO_EMOJI: ReadonlySet<string> = new Set(['👎', '❌', '✖', '❎', '🚫', '⛔', '🙅', '🙅‍♂️']);
export const THANKS_EMOJI: ReadonlySet<string> = new Set(['🙏', '❤', '😊', '🥰', '😍', '👏', '💕', '💙', '😀', '🙂']);
/** A stop sign or a no-entry sign alone may mean "stop texting me": flagged, never acted on. */
export const STOP_EMOJI: ReadonlySet<string> = new Set(['🛑']);

/** Number words answering a menu, when they are the whole reply. */
export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5,
  uno: 1, dos: 2, tres: 3, cuatro: 4, cinco: 5, un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5,
  eins: 1, zwei: 2, drei: 3, vier: 4, funf: 5, um: 1, duas: 2,
};

/** Words around a menu number that change nothing: "option 2", "I'll take 3 please", "5 stars". */
export const MENU_FILLER: ReadonlySet<string> = new Set([
  'option', 'opt', 'choice', 'number', 'num', 'nr', 'no', 'the', 'i', 'ill', 'take', 'choose', 'pick', 'want', 'id', 'like',
  'go', 'with', 'for', 'me', 'its', 'it', 'is', 'answer', 'my', 'select', 'selected', 'star', 'stars', 'out', 'of', 'rate',
  'rating', 'give', 'opcion', 'numero', 'choix', 'nummer', 'auswahl', 'opcao',
]);

/** Words that ask for another time: with a parsed time they make a reschedule. */
export const CHANGE_WORDS: ReadonlySet<string> = new Set([
  'reschedule', 'resched', 'rescheduling', 'move', 'change', 'instead', 'earlier', 'later', 'postpone', 'push', 'another',
  'different', 'rather', 'prefer', 'possible', 'available', 'free', 'better', 'could', 'would', 'can', 'how', 'what', 'about',
  'cambiar', 'mejor', 'otra', 'otro', 'reprogramar', 'mover', 'plutot', 'changer', 'deplacer', 'reporter', 'autre', 'lieber',
  'stattdessen', 'verschieben', 'andere', 'anderen', 'remarcar', 'mudar', 'outro', 'outra', 'podemos', 'pouvons', 'konnen',
]);

/** Phrases that ask to reschedule even without a time. */
export const RESCHEDULE_PHRASES: readonly string[] = [
  'reschedule', 'resched', 'rescheduling', 'move my appointment', 'move the appointment', 'move it', 'change the time',
  'change my appointment', 'change the appointment', 'different time', 'another time', 'another day', 'different day',
  'other time', 'postpone', 'push it back', 'later date', 'new time', 'new date', 'reprogramar', 'cambiar la cita',
  'cambiar mi cita', 'otro dia', 'otra hora', 'changer le rendez vous', 'changer mon rendez vous', 'reporter', 'autre jour',
  'autre heure', 'verschieben', 'anderen termin', 'remarcar', 'outro dia', 'outro horario',
];

/** What an appointment, a booking or an order is called: "cancel my appointment" cancels it, not the texts. */
export const BOOKING_WORDS: ReadonlySet<string> = new Set([
  'appointment', 'appt', 'appointement', 'booking', 'reservation', 'order', 'visit', 'meeting', 'session', 'class',
  'consultation', 'consult', 'delivery', 'table', 'cita', 'reserva', 'pedido', 'rdv', 'rendez', 'commande', 'termin',
  'bestellung', 'consulta', 'agendamento', 'encomenda',
]);

export const CANCEL_WORDS: ReadonlySet<string> = new Set(['cancel', 'cancelled', 'canceled', 'cancelar', 'annuler', 'annule', 'stornieren', 'absagen', 'anular', 'cancela']);
